"""autograder/runner.py: a check that passes, one that finds the deployment wrong, and
every way the grader itself can fail (a bug in a check, a hang, a killed worker, a
signal to the guard, SIGKILL of the guard) each end in a valid results.json where only
the deployment's faults cost points. The checks are tests/autograder/fake_checks.py."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from autograder import runner
from autograder.__main__ import main
from autograder.results import GRADER_FAILED
from autograder.runner import CODE_ROOT, SLIP_CHECK_NAME, grade
from tests.autograder.fake_checks import MARKER_VARIABLE
from tests.autograder.valid import assert_valid_results

pytestmark = pytest.mark.database_independent

FAKES = "tests.autograder.fake_checks"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SLIP = {
    "url": "https://birds.example.com",
    "region": "eu-west-1",
    "access_key_id": "AKIAIOSFODNN7EXAMPLE",
    "secret_access_key": SECRET,
}
NOWHERE = "http://127.0.0.1:9"  # the fake checks never connect


def by_name(results: dict) -> dict[str, dict]:
    return {test["name"]: test for test in results["tests"]}


def submission(tmp_path: Path, slip: dict = SLIP) -> Path:
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "deployment.json").write_text(json.dumps(slip))
    return folder


def graded(tmp_path: Path, checks: str, **options) -> dict:
    results_path = tmp_path / "results" / "results.json"
    options.setdefault("url", NOWHERE)
    results = grade(results_path, checks=f"{FAKES}:{checks}", **options)
    assert json.loads(results_path.read_text()) == results
    assert_valid_results(results)
    return results


def test_only_the_deployments_faults_cost_points(tmp_path):
    results = graded(tmp_path, "MIXED", url=None, submission=submission(tmp_path))
    tests = by_name(results)
    assert tests[SLIP_CHECK_NAME]["status"] == "passed"
    assert SECRET not in json.dumps(results)
    assert (tests["Health"]["score"], tests["Health"]["max_score"]) == (2, 2)
    assert tests["Health"]["output"] == "https://birds.example.com answered as it should."
    assert (tests["History"]["score"], tests["History"]["status"]) == (4, "passed")
    readiness = tests["Readiness"]
    assert (readiness["score"], readiness["max_score"], readiness["status"]) == (0, 3, "failed")
    assert readiness["output"].startswith("Expected GET /healthz to answer 200")
    assert "grader-error" not in readiness["tags"]

    for name, says in [
        ("Classify a bird", "ValueError: no label 'magpie'"),
        ("Bucket is private", "AWS answered ThrottlingException five times"),
        ("Returns False", "returned False (bool)"),
    ]:
        test = tests[name]
        assert (test["score"], test["max_score"], test["status"]) == (0, 0, "failed")
        assert test["output"].startswith(GRADER_FAILED)
        assert says in test["output"]
        assert "grader-error" in test["tags"]
    assert "Traceback" in tests["Classify a bird"]["output"]
    assert tests["Bucket is private"]["tags"] == ["aws", "grader-error"]

    assert results["score"] == 6  # every point of the checks that ran, none lost
    assert results["extra_data"]["grader_errors"] == 3
    assert results["extra_data"]["points_not_checked"] == 7
    assert results["output"].startswith(
        "THE GRADER FAILED on 3 of 7 checks (Classify a bird, Bucket is private, Returns False)"
    )
    assert "Score: 6 of the 9 points checked." in results["output"]
    assert "To fix: Readiness." in results["output"]


def test_a_hung_check_is_stopped_and_the_next_one_still_runs(tmp_path):
    began = time.monotonic()
    results = graded(tmp_path, "HANGS", check_seconds=1)
    assert time.monotonic() - began < 10
    tests = by_name(results)
    assert "did not finish within the grader's limit of 1 s" in tests["Hangs"]["output"]
    assert "in hangs" in tests["Hangs"]["output"], "where it was stuck, for the staff"
    assert tests["Hangs"]["max_score"] == 0
    assert tests["After"]["status"] == "passed"
    assert results["score"] == 4
    assert results["extra_data"]["grader_errors"] == 1


def test_a_checks_own_time_limit_wins_over_the_runs(tmp_path):
    began = time.monotonic()
    results = graded(tmp_path, "HANGS_WITH_ITS_OWN_LIMIT", check_seconds=300)
    assert time.monotonic() - began < 10
    assert "limit of 0.5 s" in by_name(results)["Hangs briefly"]["output"]


def test_a_killed_worker_costs_its_check_as_a_grader_error_and_a_new_one_goes_on(tmp_path):
    results = graded(tmp_path, "KILLS_ITS_WORKER")
    tests = by_name(results)
    killed = tests["Kills its worker"]
    assert killed["output"].startswith(GRADER_FAILED)
    assert "was killed by SIGKILL" in killed["output"]
    assert tests["Before"]["status"] == tests["After"]["status"] == "passed"
    assert results["score"] == 4


def test_a_slip_the_grader_cannot_read_runs_no_check_and_says_why(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "notes.txt").write_text("my site is up")
    results = graded(tmp_path, "ALL_PASS", url=None, submission=folder)
    tests = results["tests"]
    assert tests[0]["name"] == SLIP_CHECK_NAME
    assert tests[0]["status"] == "failed"
    assert "Expected one file named deployment.json" in tests[0]["output"]
    assert [(test["score"], test["max_score"]) for test in tests[1:]] == [(0, 2), (0, 3)]
    assert all(test["output"].startswith("Not checked") for test in tests[1:])
    assert results["output"].startswith("Your deployment.json could not be read")
    assert results["extra_data"]["grader_errors"] == 0


def test_aws_checks_run_only_with_a_slips_credentials(tmp_path):
    with_url = graded(tmp_path / "url", "http_and_aws")
    assert [test["name"] for test in with_url["tests"]] == ["Health"]
    with_slip = graded(tmp_path, "http_and_aws", url=None, submission=submission(tmp_path))
    assert by_name(with_slip)["AWS account"]["output"] == "region eu-west-1"
    assert with_slip["score"] == 5


@pytest.mark.parametrize(
    ("checks", "says"),
    [
        ("fails_to_import", "ModuleNotFoundError: No module named 'autograder.no_such_module'"),
        ("NOT_CHECKS", "TypeError: tests.autograder.fake_checks:NOT_CHECKS holds 'Health'"),
        ("SAME_NAME_TWICE", "two checks are named 'Health'"),
    ],
)
def test_checks_that_cannot_be_listed_are_one_grader_error(tmp_path, checks, says):
    results = graded(tmp_path, checks)
    (test,) = results["tests"]
    assert test["output"].startswith(GRADER_FAILED)
    assert (
        "The grader could not list its checks: its worker ended with exit status 1"
        in (test["output"])
    )
    assert says in test["output"]


def test_a_crash_of_the_guard_itself_still_writes_results(tmp_path, monkeypatch):
    def crash(self):
        raise RuntimeError("a bug in the guard")

    monkeypatch.setattr(runner.Guard, "run", crash)
    results = graded(tmp_path, "ALL_PASS")
    assert "The grader itself crashed" in results["tests"][0]["output"]
    assert "RuntimeError: a bug in the guard" in results["tests"][0]["output"]


class AlertCatcher(BaseHTTPRequestHandler):
    received: list

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def alert_url(monkeypatch):
    """A stand-in for the staff's webhook, on loopback: what it received."""
    received = []
    handler = type("Catcher", (AlertCatcher,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AUTOGRADER_ALERT_URL", f"http://127.0.0.1:{server.server_port}/alert")
    yield received
    server.shutdown()
    server.server_close()


def test_the_staff_hear_of_grader_errors_and_of_nothing_else(tmp_path, alert_url):
    graded(tmp_path / "fine", "ALL_PASS")
    assert alert_url == []
    graded(tmp_path, "MIXED", url=None, submission=submission(tmp_path))
    (alert,) = alert_url
    assert alert["grader_errors"] == 3
    assert alert["checks"] == ["Classify a bird", "Bucket is private", "Returns False"]
    assert alert["deployment"] == "https://birds.example.com"
    assert SECRET not in json.dumps(alert)


def test_the_command_lines_exit_status_says_whether_the_grader_failed(tmp_path, capsys):
    arguments = ["--url", NOWHERE, "--results", str(tmp_path / "a" / "results.json")]
    assert main([*arguments, "--checks", f"{FAKES}:ALL_PASS"]) == 0
    assert capsys.readouterr().out.startswith("Score: 5 of the 5 points checked.")
    assert main([*arguments, "--checks", f"{FAKES}:MIXED"]) == 1
    assert capsys.readouterr().out.startswith("THE GRADER FAILED")
    with pytest.raises(SystemExit) as usage:
        main(["--url", "ftp://birds.example.com", "--results", str(tmp_path / "b.json")])
    assert usage.value.code == 2


# --- the guard as Gradescope runs it, in a process of its own --------------------------
def start_guard(tmp_path: Path, checks: str) -> tuple[subprocess.Popen, Path, Path]:
    results_path = tmp_path / "results.json"
    marker = tmp_path / "running"
    guard = subprocess.Popen(
        [sys.executable, "-m", "autograder", "--url", NOWHERE, "--results", str(results_path),
         "--checks", f"{FAKES}:{checks}"],
        cwd=CODE_ROOT,
        env={**os.environ, MARKER_VARIABLE: str(marker)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while not marker.exists():
        assert guard.poll() is None, guard.stderr.read().decode()
        assert time.monotonic() < deadline, "the check never started"
        time.sleep(0.05)
    return guard, results_path, marker


def worker_pids(guard_pid: int) -> list[int]:
    """The guard's workers: its children running autograder.worker."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            command = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        state, parent = stat.rpartition(")")[2].split()[:2]
        if (
            b"autograder.worker" in command
            and state not in "ZX"
            and (int(parent) == guard_pid or f"--guard-pid\0{guard_pid}\0".encode() in command)
        ):
            pids.append(int(proc.name))
    return pids


def test_sigterm_to_the_guard_ends_the_run_with_what_was_found(tmp_path):
    guard, results_path, _ = start_guard(tmp_path, "WAITS")
    assert worker_pids(guard.pid)
    guard.send_signal(signal.SIGTERM)
    assert guard.wait(timeout=10) == -signal.SIGTERM  # stopped, once results.json is written
    results = json.loads(results_path.read_text())
    tests = by_name(results)
    assert tests["Before"]["status"] == "passed"
    assert "stopped while this check was running" in tests["Waits"]["output"]
    assert "It was stopped (SIGTERM) before it finished." in tests["Waits"]["output"]
    assert "stopped before this check ran" in tests["Never reached"]["output"]
    assert results["extra_data"]["stopped_by"] == "SIGTERM"
    assert results["score"] == 1
    assert not worker_pids(guard.pid)


def test_sigkill_of_the_guard_leaves_the_last_results_and_no_worker(tmp_path):
    guard, results_path, _ = start_guard(tmp_path, "WAITS")
    deadline = time.monotonic() + 10  # the guard rewrites results.json a poll later
    while "stopped while this check was running" not in results_path.read_text():
        assert time.monotonic() < deadline, "the guard never wrote that the check runs"
        time.sleep(0.05)
    guard.kill()
    guard.wait(timeout=10)
    results = json.loads(results_path.read_text())
    tests = by_name(results)
    assert tests["Before"]["status"] == "passed"
    assert "stopped while this check was running" in tests["Waits"]["output"]
    assert "the grader was killed before it finished" in tests["Waits"]["output"]
    assert tests["Never reached"]["output"].startswith(GRADER_FAILED)
    assert results["score"] == 1
    deadline = time.monotonic() + 5
    while worker_pids(guard.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not worker_pids(guard.pid), "the worker outlived its guard"
