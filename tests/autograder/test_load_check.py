"""The load test's verdict (autograder/load_check.py): thresholds on failures and p95,
judged on the summary the repository's load test writes (tooling/loadtest/timeline.py).
tests/autograder/test_http_checks.py runs the whole check against the stack."""

import pytest

from autograder.checks import DeploymentWrong
from autograder.load_check import judge
from tooling.loadtest.timeline import Sample, endpoint_summary

pytestmark = pytest.mark.database_independent

CLASSIFY, LIST, LOGIN = "POST /api/v1/classify", "GET /api/v1/submissions", "POST /account/login/"


def summary(*samples: Sample, errors: list | None = None) -> dict:
    return {"seconds": 30.0, "endpoints": endpoint_summary(list(samples), 30.0),
            "errors": errors or []}  # fmt: skip


def requests(endpoint: str, count: int, ms: float, failed: int = 0) -> list[Sample]:
    return [Sample(at=n / 10, endpoint=endpoint, ms=ms, failed=n < failed) for n in range(count)]


def test_a_run_within_the_limits_passes_with_its_figures():
    run = summary(*requests(CLASSIFY, 100, 400.0), *requests(LIST, 200, 50.0))
    assert judge(run, users=10, seconds=30) == (
        "10 simulated users for 30 s: 300 requests in 30 s, 0 failed, p95 400 ms"
    )


def test_failed_requests_over_one_percent_fail_it_with_the_errors():
    errors = [{"endpoint": LIST, "error": "503 (expected 200)", "count": 4}]
    run = summary(*requests(CLASSIFY, 100, 400.0), *requests(LIST, 200, 50.0, failed=4),
                  errors=errors)  # fmt: skip
    with pytest.raises(DeploymentWrong) as wrong:
        judge(run, users=10, seconds=30)
    assert "failure ratio 0.0133 (4 of 300) is over 0.01" in str(wrong.value)
    assert "GET /api/v1/submissions: 503 (expected 200) (4x)" in str(wrong.value)


def test_a_slow_endpoint_fails_it_by_its_own_limit():
    run = summary(*requests(CLASSIFY, 100, 3500.0), *requests(LIST, 200, 50.0))
    with pytest.raises(DeploymentWrong, match=r"POST /api/v1/classify: p95 3500 ms is over 3000"):
        judge(run, users=10, seconds=30)


def test_the_log_in_burst_at_the_start_is_judged_by_its_own_limit():
    # The reference stack, its 7 simulated users logging in during the same second.
    burst = summary(*requests(LOGIN, 7, 3300.0), *requests(LIST, 200, 50.0))
    assert judge(burst, users=10, seconds=30).endswith("207 requests in 30 s, 0 failed, p95 50 ms")
    stuck = summary(*requests(LOGIN, 7, 6500.0), *requests(LIST, 200, 50.0))
    with pytest.raises(DeploymentWrong, match=r"POST /account/login/: p95 6500 ms is over 6000"):
        judge(stuck, users=10, seconds=30)


def test_a_run_where_nothing_was_answered_fails():
    with pytest.raises(DeploymentWrong, match="no request was answered at all"):
        judge(summary(), users=10, seconds=30)
