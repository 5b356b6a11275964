"""The HTTP checks (autograder/http_checks.py) grading a real N-tier stack: the reference
gets full marks, and each planted defect fails exactly its own check, with a message a
student can act on.

One stack for the module (`scripts/stack up --app-servers 2`, as a student runs it),
whose app servers load tests/autograder/planted/settings.py: the real settings plus a
test-only middleware and app that plant the defect named in a file of the stack's var/
folder (none: the reference). So one stack start serves every run, and the app's own
code has no defect switch. "One app server only" is real: `scripts/stack stop app2`.
"""

import os
import subprocess

import pytest

from autograder.checks import DeploymentWrong, Slip
from autograder.http_checks import LOAD_TEST_NAME, checks
from tests.autograder import planted
from tests.stack.stack_script import SCRIPT, stack, status

pytestmark = [
    # It brings its own PostgreSQL: the PostGIS run need not repeat it.
    pytest.mark.database_independent,
    pytest.mark.measures_load,  # a load test among the checks: scripts/test runs it alone
    pytest.mark.skipif(os.geteuid() != 0, reason="cgroups can only be made as root"),
]

# Short, for CI's time: the real grader runs autograder/load_check.py's LOAD_SECONDS.
LOAD_USERS, LOAD_SECONDS = 6, 8.0


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory, onnx_model):
    state_dir = tmp_path_factory.mktemp("graded-stack")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.autograder.planted.settings"}
    up = subprocess.run(
        [str(SCRIPT), "--state-dir", str(state_dir), "up", "--app-servers", "2",
         "--cpu", "0.5", "--memory", "1g", "--onnx-model", str(onnx_model)],
        env=env, capture_output=True, text=True, timeout=360, check=False,
    )  # fmt: skip
    try:
        assert up.returncode == 0, up.stderr
        yield state_dir
    finally:
        down = stack(state_dir, "down")
        assert down.returncode == 0, down.stderr


@pytest.fixture(scope="module")
def base_url(state_dir) -> str:
    return status(state_dir)["base_url"]


def grade(url: str, *, with_load_test: bool = False) -> dict[str, tuple[bool, str]]:
    """Every HTTP check on `url`: {name: (passed, note or message)}. An exception other
    than DeploymentWrong is the grader's own bug, and fails the test."""
    results = {}
    slip = Slip(url=url)
    for check in checks(
        load_users=LOAD_USERS, load_seconds=LOAD_SECONDS, with_load_test=with_load_test
    ):
        try:
            results[check.name] = (True, check.run(slip) or "")
        except DeploymentWrong as wrong:
            results[check.name] = (False, str(wrong))
    return results


def failed(results: dict[str, tuple[bool, str]]) -> dict[str, str]:
    return {name: message for name, (passed, message) in results.items() if not passed}


def test_the_reference_stack_gets_full_marks(base_url):
    results = grade(base_url, with_load_test=True)

    assert failed(results) == {}
    assert len(results) == len(checks())
    assert (
        "2 app servers answered: app1, app2"
        in results["Several app servers answer (X-Served-By)"][1]
    )
    assert "simulated users" in results[LOAD_TEST_NAME][1]


# Each planted defect, the one check it must fail, and words its message must hold (what
# was expected, and where to look).
DEFECTS = {
    planted.WRONG_LABEL: (
        "Classify a known bird", ["classifies birds/pink_flamingo.png as 'flamingo'", "'ostrich'",
                                  "docs/classifier.md"]),
    planted.ERROR_500_ON_BAD_INPUT: (
        "Bad input gets a 4xx, not a 5xx", ["classify a text file", ": 500", "shared/uploads.py"]),
    planted.GPS_KEPT: (
        "Stored photo has no metadata and is upright", ["EXIF (with GPS)", "history/photos.py"]),
    planted.SERVED_FROM_APP: (
        "Stored photo served through the CDN (signed link, cache hit)",
        ["served by the app itself", "AWS_S3_CUSTOM_DOMAIN"]),
    planted.ISOLATION_BROKEN: (
        "User B cannot see user A's photo", ["got 200", "history/lookups.py"]),
    planted.NO_PROXY_CACHE: (
        "The proxy cache answers the home page (X-Cache-Status: HIT)",
        ["MISS, MISS, MISS", "proxy_cache"]),
}  # fmt: skip


@pytest.fixture
def plant(state_dir):
    defect_file = planted.defect_file(state_dir / "var")

    def plant(defect: str) -> None:
        defect_file.write_text(defect)

    yield plant
    defect_file.unlink(missing_ok=True)


@pytest.mark.parametrize("defect", DEFECTS)
def test_each_planted_defect_fails_exactly_its_own_check(base_url, plant, defect):
    plant(defect)
    url = base_url
    if defect == planted.NO_PROXY_CACHE:
        # The proxy keeps the home page by host name, and has kept 127.0.0.1's since the
        # reference run: a name no run has used shows what the app says now.
        url = base_url.replace("127.0.0.1", "localhost")

    wrong = failed(grade(url))

    check, words = DEFECTS[defect]
    assert list(wrong) == [check], wrong
    for word in words:
        assert word in wrong[check]


def test_one_app_server_only_fails_exactly_the_n_tier_check(state_dir, base_url):
    assert stack(state_dir, "stop", "app2").returncode == 0
    try:
        wrong = failed(grade(base_url))
    finally:
        assert stack(state_dir, "start", "app2").returncode == 0

    check = "Several app servers answer (X-Served-By)"
    assert list(wrong) == [check], wrong
    assert "they carried only ['app1']" in wrong[check]
    assert "APP_SERVER_NAME" in wrong[check]
