"""Every request of a run, as it happened, and what can be read from them: rates and
percentiles per time window, per endpoint and per app server.

Locust keeps its own statistics (its HTML and CSV reports); this module keeps the raw
samples as well, because the load test's own questions need them: p95 within each
step of a step load, minute one against the last minute of a soak, and which app
server answered (X-Served-By). No Locust import here, so tests can use it freely.
"""

import csv
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

UNKNOWN_SERVER = "(unnamed)"  # no X-Served-By or X-Upstream header
PROXY_CACHE = "(proxy cache)"  # X-Cache-Status: HIT, no app server involved


@dataclass(frozen=True)
class Sample:
    """One request: when it ended (seconds since the run began), its endpoint (as
    "METHOD name"), how long it took, whether it failed, and who answered."""

    at: float
    endpoint: str
    ms: float
    failed: bool
    server: str = UNKNOWN_SERVER
    cache: str = ""  # the proxy's X-Cache-Status, when it sent one


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction 0.95 for p95); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Window:
    """The requests that ended within [start, end)."""

    start: float
    end: float
    samples: list[Sample] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def requests_per_second(self) -> float:
        return len(self.samples) / self.seconds if self.seconds > 0 else math.nan

    @property
    def failures(self) -> int:
        return sum(sample.failed for sample in self.samples)

    def p(self, fraction: float, endpoints: Iterable[str] | None = None) -> float:
        wanted = set(endpoints) if endpoints is not None else None
        return percentile(
            [s.ms for s in self.samples if wanted is None or s.endpoint in wanted], fraction
        )

    def per_server(self) -> Counter:
        return Counter(sample.server for sample in self.samples)


def between(samples: list[Sample], start: float, end: float) -> Window:
    return Window(start, end, [s for s in samples if start <= s.at < end])


def windows(samples: list[Sample], seconds: float, *, until: float | None = None) -> list[Window]:
    """Consecutive windows of `seconds` from 0 to the last sample (or `until`)."""
    end = until if until is not None else max((s.at for s in samples), default=0.0)
    count = max(1, math.ceil(end / seconds))
    # The last window ends with the run, so its rate is not diluted by time after it.
    buckets = [Window(i * seconds, min((i + 1) * seconds, end)) for i in range(count)]
    for sample in samples:
        index = min(int(sample.at // seconds), count - 1)
        buckets[index].samples.append(sample)
    return buckets


def endpoint_summary(samples: list[Sample], seconds: float) -> dict[str, dict]:
    """Per endpoint, and "Aggregated" for all: requests, failures, rate, latencies."""
    by_endpoint: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_endpoint[sample.endpoint].append(sample)
    by_endpoint["Aggregated"] = samples
    return {name: stats(group, seconds) for name, group in sorted(by_endpoint.items())}


def server_summary(samples: list[Sample], seconds: float) -> dict[str, dict]:
    by_server: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_server[sample.server].append(sample)
    return {name: stats(group, seconds) for name, group in sorted(by_server.items())}


def stats(samples: list[Sample], seconds: float) -> dict:
    times = [s.ms for s in samples]
    failures = sum(s.failed for s in samples)
    return {
        "requests": len(samples),
        "failures": failures,
        "failure_ratio": failures / len(samples) if samples else 0.0,
        "requests_per_second": len(samples) / seconds if seconds > 0 else 0.0,
        "p50_ms": round(percentile(times, 0.50), 1) if times else None,
        "p95_ms": round(percentile(times, 0.95), 1) if times else None,
        "p99_ms": round(percentile(times, 0.99), 1) if times else None,
        "max_ms": round(max(times), 1) if times else None,
    }


def write_samples_csv(path: Path, samples: list[Sample]) -> None:
    """Every request, one row each: for reading the run again without the load test."""
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["seconds", "endpoint", "ms", "failed", "server", "cache"])
        for s in samples:
            row = [f"{s.at:.3f}", s.endpoint, f"{s.ms:.1f}", int(s.failed), s.server, s.cache]
            writer.writerow(row)
