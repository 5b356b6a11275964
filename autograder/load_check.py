"""The bounded load test of a student's deployment (issue #16, item 5).

The repository's Locust workload (tooling/loadtest/workload.py: anonymous classify,
signed-in uploads of photo bytes nobody sent before, history, map, pages, static files)
runs for LOAD_SECONDS with LOAD_USERS users, each sending at most one request a second,
from the grader's own container: Gradescope gives it about half a CPU, and in a cgroup
of 0.5 CPU Locust generates far more than this (the figure is in docs/autograder.md),
so the grader, not the deployment, never sets the pace. Its users are signed up through
the API first (LOAD_ACCOUNTS of them, shared by the signed-in simulated users).

It passes when at most MAX_FAILURE_RATIO of the requests failed and each endpoint's
p95 stayed under its limit: generous limits, which a working N-tier deployment of the
assignment's sizes meets many times over, and a deployment with a failing tier (an app
server down behind a load balancer that still sends it requests, an exhausted database
pool) does not.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.checks import DeploymentWrong
from autograder.http_state import GradingState, sign_up
from tooling.loadtest.thresholds import Thresholds  # no Locust in it: safe to import here

LOAD_USERS = 10
LOAD_SECONDS = 30.0
LOAD_ACCOUNTS = 4
MAX_FAILURE_RATIO = 0.01
DEFAULT_P95_MS = 2000.0
# The photo endpoints decode and classify a photo on every request. A log-in hashes the
# password, slowly on purpose (half a second on the local stack's 0.5-CPU app servers),
# and every signed-in simulated user logs in during the run's first second: its p95 is
# the queue of that burst (7 log-ins at once took up to 2.3 s on the reference stack,
# 3.3 s on a busy machine), not the site's speed.
P95_MS = {
    "POST /api/v1/classify": 3000.0,
    "POST /api/v1/submissions": 4000.0,
    "POST /account/login/": 6000.0,
}
# Locust's start and the report's plots, beyond the run itself.
WORKER_OVERHEAD_SECONDS = 60.0
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def load_test(state: GradingState, *, users: int = LOAD_USERS,
              seconds: float = LOAD_SECONDS) -> str:  # fmt: skip
    accounts = state.step("the load test's users signed up", lambda: sign_up_load_users(state))
    with tempfile.TemporaryDirectory(prefix="grader-load-") as folder:
        report = Path(folder) / "report"
        credentials = Path(folder) / "users.json"
        credentials.touch(mode=0o600)
        credentials.write_text(json.dumps(accounts))
        command = [
            sys.executable, "-m", "autograder.load_worker",
            "--graded-url", state.client.base_url, "--credentials", str(credentials),
            "--users", str(users), "--seconds", str(seconds), "--report", str(report),
        ]  # fmt: skip
        finished = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            env={**os.environ, "MPLBACKEND": "Agg"},
            capture_output=True,
            text=True,
            timeout=seconds + WORKER_OVERHEAD_SECONDS,
            check=False,
        )
        if finished.returncode != 0:  # the grader's own failure, not the student's
            raise RuntimeError(f"the load test did not run:\n{finished.stderr[-3000:]}")
        summary = json.loads((report / "summary.json").read_text())
    return judge(summary, users=users, seconds=seconds)


def judge(summary: dict, *, users: int, seconds: float) -> str:
    """The verdict on a run's summary.json (tooling/loadtest/runner.py): a note, or
    DeploymentWrong naming each limit exceeded and the first errors."""
    # Limits for endpoints the run happened not to send are no verdict on the student.
    limits = {name: ms for name, ms in P95_MS.items() if name in summary["endpoints"]}
    violations = Thresholds(MAX_FAILURE_RATIO, DEFAULT_P95_MS, limits).violations(
        summary["endpoints"]
    )
    total = summary["endpoints"].get("Aggregated", {})
    figures = (
        f"{total.get('requests', 0)} requests in {summary['seconds']:.0f} s, "
        f"{total.get('failures', 0)} failed, p95 {total.get('p95_ms') or 0:.0f} ms"
    )
    if violations:
        errors = "; ".join(f"{e['endpoint']}: {e['error']} ({e['count']}x)"
                           for e in summary["errors"][:5])  # fmt: skip
        raise DeploymentWrong(
            f"Under a small load ({users} simulated users, about {users} requests a second, "
            f"for {seconds:.0f} s): {figures}. Over the limits: {'; '.join(violations)}."
            + (f" Errors: {errors}." if errors else "")
            + " Look at the app servers' logs and CPU during the run; docs/scaling.md "
            "sizes each tier."
        )
    return f"{users} simulated users for {seconds:.0f} s: {figures}"


def sign_up_load_users(state: GradingState) -> list[dict]:
    run = os.urandom(3).hex()
    users = [sign_up(state.client, f"grader-load-{run}-{n}") for n in range(LOAD_ACCOUNTS)]
    return [{"username": u.username, "password": u.password, "token": u.token} for u in users]
