"""Fixtures shared by the whole suite. Servers (PostgreSQL, gunicorn, ...) come from
tests/server_fixtures.py and the database choice from tests/database_plugin.py."""

import signal
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings

from tests.database_plugin import cluster_key


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test run alone (measures_load) or in the PostGIS run only (in_postgis_run) runs
    once, so it must not depend on the session's database."""
    for item in items:
        for marker in ("measures_load", "in_postgis_run"):
            if item.get_closest_marker(marker) and not item.get_closest_marker(
                "database_independent"
            ):
                raise pytest.UsageError(f"{item.nodeid}: {marker} needs database_independent")


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM stops a run as Ctrl-C does, with every fixture's teardown: scripts/test
    stops its background PostGIS run so, and the servers that run started must stop too."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


@pytest.fixture(scope="session", autouse=True)
def onnx_model(tmp_path_factory) -> Path:
    """The ONNX model, exported once per test session as `manage.py export_onnx` does."""
    path = tmp_path_factory.mktemp("models") / "efficientnet-lite0.onnx"
    call_command("export_onnx", "--output", str(path), verbosity=0)
    with override_settings(CLASSIFIER_ONNX_PATH=path):
        yield path


# --- Static files as production serves them ------------------------------------------
PRODUCTION_STATIC_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture(scope="session")
def collected_static_root(tmp_path_factory) -> Path:
    """collectstatic run once per test session as production runs it (hashed names,
    gzip and Brotli copies): it takes about 6 s, and three test modules read its output."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(
        STATIC_ROOT=root,
        STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STATIC_STORAGE}},
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def collected_static(settings, collected_static_root) -> Path:
    """This test's settings serve the collected static files (see collected_static_root)."""
    settings.STATIC_ROOT = collected_static_root
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": PRODUCTION_STATIC_STORAGE},
    }
    return collected_static_root


@pytest.fixture
def no_files_left_behind(settings, tmp_path, monkeypatch):
    """Fails the test if the request left any file in the media root or the temp dir."""
    media_root = tmp_path / "media"
    temp_dir = tmp_path / "tmp"
    media_root.mkdir()
    temp_dir.mkdir()
    settings.MEDIA_ROOT = media_root
    settings.FILE_UPLOAD_TEMP_DIR = temp_dir
    monkeypatch.setattr(tempfile, "tempdir", str(temp_dir))
    yield
    left_behind = [*media_root.rglob("*"), *temp_dir.rglob("*")]
    assert left_behind == [], f"files left behind: {left_behind}"


@pytest.fixture
def missing_model(settings, tmp_path):
    """The ONNX backend pointed at a model file that was never exported."""
    settings.CLASSIFIER_BACKEND = "onnx"
    settings.CLASSIFIER_ONNX_PATH = tmp_path / "never-exported.onnx"


# --- Nothing skips but by design ------------------------------------------------------
# The only skip the suite has on purpose: PostGIS-only tests in the SpatiaLite run (the
# PostGIS run has them). Any other skip (a missing folder, package or server) would be a
# test counted as passing that never ran, so the run fails and names it (issue #12: a
# clone without ../shared once skipped 27 tests in silence).
POSTGIS_ONLY = "runs on PostGIS only (BIRDAI_TEST_DB=postgis)"
unexpected_skips: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2].removeprefix("Skipped: ")
        if reason != POSTGIS_ONLY:
            unexpected_skips.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if unexpected_skips and exitstatus == pytest.ExitCode.OK:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_line(
            f"FAILED: {len(unexpected_skips)} skipped; only PostGIS-only tests may skip:"
        )
        for line in unexpected_skips:
            reporter.write_line(f"  {line}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def database_cluster(request):
    """The PostgreSQL cluster behind the Django test database (PostGIS runs only)."""
    cluster = request.config.stash.get(cluster_key, None)
    if cluster is None:
        pytest.skip(POSTGIS_ONLY)
    return cluster


# --- Throttling: each test starts with no counts (throttling/) -----------------------


@pytest.fixture(autouse=True)
def no_throttle_counts():
    """Clears the throttling counters, so that one test's log-ins and uploads never
    count against the next. Tests keep the real limits (settings.py)."""
    from axes.handlers.proxy import AxesProxyHandler
    from django.core.cache import caches

    caches["throttle"].clear()
    # django-axes keeps the cache it counts in; a test that swapped CACHES may have
    # left it holding another one.
    AxesProxyHandler.get_implementation(force=True)


@pytest.fixture(autouse=True)
def no_shared_cache_entries():
    """Empties the default cache (predictions kept by SHA-256, cached sessions), so that
    a photo one test classified is classified again by the next: a test of the model
    (or of a missing one) must not get an answer kept from before."""
    from django.core.cache import caches

    caches["default"].clear()


# --- apitruth (issue 12): API tests meet CSRF checks as a real client does -----------


@pytest.fixture
def api_client():
    """Django's test client with CSRF checks on, as a browser or a script meets them
    (the plain `client` skips them, which once hid a 403 where the schema says 401).
    A test that signs in with a session must send the token: see csrf_headers()."""
    return Client(enforce_csrf_checks=True)


# BEGIN ASSIGNMENT 2
def csrf_headers(client: Client) -> dict[str, str]:
    """The X-CSRFToken header a signed-in page's JavaScript would send, taken from the
    csrftoken cookie that a page with a form sets."""
    client.get("/history/upload/")
    return {"X-CSRFToken": client.cookies["csrftoken"].value}


# END ASSIGNMENT 2
# --- users: two who own photos, and a member of staff ---------------------------------
# A test module that needs its users made another way defines its own fixture of the
# same name, which takes precedence in that module.


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice")


@pytest.fixture
def bob():
    return get_user_model().objects.create_user("bob")


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("sam", is_staff=True)
