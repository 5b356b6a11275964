"""Step load: more users every step until p95 passes the limit; the capacity is the
highest rate served while p95 stayed within it (and almost nothing failed).

Each user asks for at most `pace` requests a second, so each step offers
users x pace requests/s; while the servers keep up, they serve about that much. Past
capacity, requests queue: the rate served stops growing and p95 climbs. The first few
seconds of each step (users starting, queues filling or draining) are left out.
"""

import math

from tooling.loadtest import plots
from tooling.loadtest.endpoints import SIGN_IN_ENDPOINTS
from tooling.loadtest.guard import MAX_SECONDS
from tooling.loadtest.runner import LoadTest, LoadTestError
from tooling.loadtest.timeline import between, percentile

P95_LIMIT_MS = 500.0
MAX_FAILURE_RATIO = 0.01  # a step with more failures than this is past capacity


def settle_seconds(step_seconds: float) -> float:
    return min(5.0, step_seconds / 4)


def find_capacity(
    test: LoadTest,
    *,
    step_users: int,
    step_seconds: float,
    max_users: int,
    p95_limit_ms: float = P95_LIMIT_MS,
) -> dict:
    """Runs the steps inside `with test:`; returns (and writes capacity.json,
    capacity.png) the steps and the capacity found."""
    steps_needed = math.ceil(max_users / step_users)
    if steps_needed * step_seconds > MAX_SECONDS:
        raise LoadTestError(f"{steps_needed} steps of {step_seconds} s exceed {MAX_SECONDS} s")
    steps = []
    for users in range(step_users, max_users + 1, step_users):
        start, end = test.hold(users, step_seconds)
        window = between(test.samples, start + settle_seconds(step_seconds), end)
        # Signing in happens once per user, when it starts: setting up, not the workload.
        window.samples = [s for s in window.samples if s.endpoint not in SIGN_IN_ENDPOINTS]
        times = [sample.ms for sample in window.samples]
        step = {
            "users": users,
            "offered_requests_per_second": round(users * test.pace, 2),
            "requests_per_second": round(window.requests_per_second, 2),
            "requests": len(times),
            "failures": window.failures,
            "p50_ms": round(percentile(times, 0.50), 1) if times else None,
            "p95_ms": round(percentile(times, 0.95), 1) if times else None,
        }
        step["within_limit"] = within_limit(step, p95_limit_ms)
        steps.append(step)
        print(
            f"step {len(steps)}: {users} users, {step['requests_per_second']} req/s served, "
            f"p95 {step['p95_ms']} ms, {step['failures']} failed",
            flush=True,
        )
        if not step["within_limit"]:
            break  # one step past capacity is enough to see it
    return capacity_result(steps, p95_limit_ms)


def within_limit(step: dict, p95_limit_ms: float) -> bool:
    if not step["requests"] or step["p95_ms"] is None:
        return False
    return (
        step["p95_ms"] <= p95_limit_ms and step["failures"] / step["requests"] <= MAX_FAILURE_RATIO
    )


def capacity_result(steps: list[dict], p95_limit_ms: float) -> dict:
    good = [step for step in steps if step["within_limit"]]
    best = max(good, key=lambda step: step["requests_per_second"], default=None)
    return {
        "p95_limit_ms": p95_limit_ms,
        "capacity_requests_per_second": best["requests_per_second"] if best else None,
        "capacity_users": best["users"] if best else None,
        # False: even the last step stayed within the limit; the capacity is higher.
        "limit_reached": bool(steps) and not steps[-1]["within_limit"],
        "steps": steps,
    }


def write_capacity(test: LoadTest, result: dict) -> None:
    test.write_json("capacity.json", result)
    plotted = [s for s in result["steps"] if s["p95_ms"] is not None]
    if plotted:
        plots.write_capacity_plot(test.report_dir / "capacity.png", plotted, result["p95_limit_ms"])
