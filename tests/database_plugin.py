"""Chooses the database the test session runs against (loaded with -p, see pyproject.toml).

    pytest                          # SpatiaLite, the settings' default
    BIRDAI_TEST_DB=postgis pytest   # PostGIS on a throwaway PostgreSQL cluster

Both must pass: SpatiaLite is what a student runs on a laptop, PostGIS what production
runs on. settings.py reads DATABASE_URL once, when pytest-django imports it, so this
plugin sets DATABASE_URL before that happens.
"""

import atexit
import os
import shutil
import tempfile

import pytest

from tooling.servers import PostgresCluster

CHOICES = ("spatialite", "postgis")
cluster_key = pytest.StashKey[PostgresCluster]()


def chosen_database() -> str:
    choice = os.environ.get("BIRDAI_TEST_DB", "").strip().lower() or "spatialite"
    if choice not in CHOICES:
        raise pytest.UsageError(f"BIRDAI_TEST_DB={choice!r} must be one of: {', '.join(CHOICES)}")
    return choice


# pytest-django sets Django up (and so imports settings.py) in its own
# pytest_load_initial_conftests. tryfirst puts this one ahead of it: without it,
# pluggy would call pytest-django first because that plugin was registered later.
@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # A DATABASE_URL left in the shell must not send tests to a real database.
    os.environ.pop("DATABASE_URL", None)
    # Nor a REDIS_URL to a real Redis: tests clear the throttling counters they use.
    os.environ.pop("REDIS_URL", None)
    # Nor the project's var/ folder: tests clear the throttling counters kept there, and
    # scripts/test runs a SpatiaLite and a PostGIS session side by side. Each session
    # (and the servers it starts) gets its own, removed at the end.
    if not os.environ.get("BIRDAI_VAR_DIR"):
        var_dir = tempfile.mkdtemp(prefix="birdai-test-var-")
        atexit.register(shutil.rmtree, var_dir, ignore_errors=True)
        os.environ["BIRDAI_VAR_DIR"] = var_dir
    if chosen_database() != "postgis":
        return
    options = early_config.known_args_namespace
    if options.help or options.version:
        return

    cluster = PostgresCluster().start()
    # pytest_unconfigure stops it after the run; atexit covers a run that fails before
    # pytest is configured (a broken settings.py), when pytest_unconfigure never runs.
    atexit.register(cluster.close)
    early_config.stash[cluster_key] = cluster
    os.environ["DATABASE_URL"] = cluster.url


def pytest_report_header(config: pytest.Config) -> str:
    cluster = config.stash.get(cluster_key, None)
    if cluster is None:
        return "database: SpatiaLite (the settings' default; BIRDAI_TEST_DB=postgis for PostGIS)"
    return (
        f"database: PostGIS, throwaway cluster at {cluster.url} "
        f"(BIRDAI_TEST_DB=postgis, started in {cluster.startup_seconds:.1f} s)"
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    cluster = config.stash.get(cluster_key, None)
    if cluster is not None:
        cluster.close()
