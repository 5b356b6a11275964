"""The soak: a steady rate (70 % of the measured capacity) for minutes, and what must
hold over time (issue #14's must-show):

- no request failed;
- p95 of classify, and of history reads, in every later minute at most 1.5x its value
  in minute one;
- the resident memory (RSS) of every app server (its master and workers together) at
  most 15 % above its value at the end of minute one.

"Minute one" is `baseline_seconds`: the first 60 s, or the first half of a soak shorter
than two minutes. CI's soak lasts two minutes: shorter windows hold too few
classifications for their p95 to mean much. Quarters of a minute (about 50 at CI's rate:
the p95 is the third slowest request) failed a steady run, 140 ms then 234, 152 and 195;
halves of a minute (about 110) failed 2 of 4 CI runs, e.g. 49.4 ms then 75.2.

Before it, each signed-in user it will use uploads a page of photos (history.py), so that
minute one reads histories as full as the later minutes do.

The soak begins after a warm-up (WARM_UP_SECONDS): while the users start, every signed-in
user logs in at once, and hashing those passwords would make the first minute the slowest
of all, and the 1.5x check lenient. Requests made during the warm-up still count for "no
request failed"; only the timing and memory comparisons start after it. Nothing here
imports Locust: the checks take samples (timeline.py) and memory readings, and tests can
feed them their own.
"""

import json
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path

from tooling.loadtest.endpoints import CLASSIFY_ENDPOINTS, HISTORY_READ_ENDPOINTS
from tooling.loadtest.timeline import Sample, between
from tooling.servers.gunicorn import PROJECT_ROOT
from tooling.servers.process import child_pids, rss_bytes

CAPACITY_FRACTION = 0.70
P95_GROWTH_LIMIT = 1.5
RSS_GROWTH_LIMIT = 1.15
RSS_INTERVAL_SECONDS = 5.0
WARM_UP_SECONDS = 20.0


def baseline_seconds(duration: float) -> float:
    return min(60.0, duration / 2)


def rate_from_capacity(path: Path, fraction: float = CAPACITY_FRACTION) -> float:
    """`fraction` of the capacity a step-load run wrote (capacity.json)."""
    capacity = json.loads(path.read_text()).get("capacity_requests_per_second")
    if not capacity:
        raise ValueError(f"{path} holds no capacity (no step stayed within the limit)")
    return round(capacity * fraction, 2)


# --- App servers and their memory -------------------------------------------------------


def app_servers_from_stack(status: dict | list) -> tuple[str | None, dict[str, list[int]]]:
    """From `scripts/stack status --json`: the load balancer's URL, and each app server's
    PIDs by name. Parts are found by their role: one containing "app" is an app server,
    "balancer" or "proxy" the entry point."""
    parts = status.get("parts", status) if isinstance(status, dict) else status
    if isinstance(parts, dict):  # {"name": {...}, ...}
        parts = [{"name": name, **part} for name, part in parts.items()]
    host, servers = None, {}
    for part in parts:
        role = str(part.get("role", "")).lower()
        if "app" in role:
            servers[str(part.get("name") or f"app{len(servers) + 1}")] = [
                int(pid) for pid in part.get("pids", [])
            ]
        elif ("balancer" in role or "proxy" in role) and host is None:
            host = part.get("url")
    return host, servers


def read_stack_status() -> dict | list:
    finished = subprocess.run(
        [str(PROJECT_ROOT / "scripts" / "stack"), "status", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(finished.stdout)


def group_rss_bytes(pids: list[int]) -> int | None:
    """RSS summed over these processes and their children (gunicorn's workers, also
    ones started since), each counted once; None if none of them is alive."""
    everyone: set[int] = set()
    for pid in pids:
        try:
            everyone |= {pid, *child_pids(pid)}
        except OSError:
            continue
    total, alive = 0, False
    for pid in everyone:
        try:
            total += rss_bytes(pid)
            alive = True
        except (OSError, LookupError):
            continue  # exited between the listing and the reading
    return total if alive else None


@dataclass
class MemoryWatch:
    """RSS of each app server, read every RSS_INTERVAL_SECONDS while the soak runs."""

    servers: dict[str, list[int]]
    readings: dict[str, list[tuple[float, int]]] = field(default_factory=dict)

    def read(self, at: float) -> None:
        for name, pids in self.servers.items():
            rss = group_rss_bytes(pids)
            if rss is not None:
                self.readings.setdefault(name, []).append((at, rss))


# --- The checks ------------------------------------------------------------------------


def p95_check(samples: list[Sample], endpoints: set[str], label: str, duration: float) -> dict:
    baseline = baseline_seconds(duration)
    first = between(samples, 0, baseline).p(0.95, endpoints)
    later = []
    start = baseline
    while start + baseline <= duration + 1e-6:
        later.append(between(samples, start, start + baseline).p(0.95, endpoints))
        start += baseline
    worst = max((p for p in later if p == p), default=float("nan"))  # p == p: not NaN
    passed = first == first and worst == worst and worst <= P95_GROWTH_LIMIT * first
    return {
        "check": f"p95 of {label} within {P95_GROWTH_LIMIT}x minute one",
        "passed": bool(passed),
        "first_ms": none_if_nan(first),
        "later_ms": [none_if_nan(p) for p in later],
        "limit_ms": none_if_nan(P95_GROWTH_LIMIT * first),
    }


def rss_check(name: str, readings: list[tuple[float, int]], duration: float) -> dict:
    baseline = baseline_seconds(duration)
    first = [rss for at, rss in readings if at <= baseline]
    later = [rss for at, rss in readings if at > baseline]
    passed = bool(first and later) and max(later) <= RSS_GROWTH_LIMIT * first[-1]
    mib = 1024 * 1024
    return {
        "check": f"RSS of app server {name} within +{RSS_GROWTH_LIMIT - 1:.0%} of minute one",
        "passed": passed,
        "first_mib": round(first[-1] / mib, 1) if first else None,
        "peak_later_mib": round(max(later) / mib, 1) if later else None,
        "last_mib": round(later[-1] / mib, 1) if later else None,
    }


def after_warm_up(samples: list[Sample], warm_up: float) -> list[Sample]:
    """The samples that ended after the warm-up, with their times counted from its end."""
    return [replace(s, at=s.at - warm_up) for s in samples if s.at >= warm_up]


def soak_checks(
    samples: list[Sample],
    memory: dict[str, list[tuple[float, int]]],
    duration: float,
    warm_up: float = 0.0,
) -> list[dict]:
    """The soak's checks over a run of `duration` seconds whose first `warm_up` seconds
    are left out of the timing and memory comparisons (not out of the failure count)."""
    failures = sum(sample.failed for sample in samples)
    measured = after_warm_up(samples, warm_up)
    memory = {
        name: [(at - warm_up, rss) for at, rss in readings if at >= warm_up]
        for name, readings in memory.items()
    }
    duration -= warm_up
    checks = [
        {
            "check": "zero failed requests",
            "passed": failures == 0 and bool(samples),
            "failed": failures,
            "requests": len(samples),
        },
        p95_check(measured, CLASSIFY_ENDPOINTS, "classify", duration),
        p95_check(measured, HISTORY_READ_ENDPOINTS, "history reads", duration),
    ]
    if not memory:
        checks.append(
            {
                "check": "RSS of every app server",
                "passed": False,
                "why": "no app-server PIDs to read (--app-server-pid or --from-stack)",
            }
        )
    checks += [rss_check(name, readings, duration) for name, readings in sorted(memory.items())]
    return checks


def none_if_nan(value: float) -> float | None:
    return None if value != value else round(value, 1)
