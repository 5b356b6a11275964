"""Pass or fail: the limits a run must stay within, which set the exit code.

    --max-failure-ratio 0.01                  at most 1 % of all requests failed
    --max-p95-ms 800                          every endpoint's p95 at most 800 ms
    --max-p95-ms "POST /api/v1/classify=1500" this endpoint's p95 (wins over the default)
    --max-p95-ms /api/v1/submissions=300      every method of this name

Endpoints are named as in the report: "METHOD name" (workload.py lists the names).
"""

from dataclasses import dataclass, field


@dataclass
class Thresholds:
    max_failure_ratio: float | None = None
    default_p95_ms: float | None = None
    p95_ms: dict[str, float] = field(default_factory=dict)  # endpoint or name -> ms

    def add_p95(self, text: str) -> None:
        """One --max-p95-ms value: "MS" or "ENDPOINT=MS"."""
        name, _, value = text.rpartition("=")
        try:
            milliseconds = float(value)
        except ValueError:
            raise ValueError(f"--max-p95-ms {text!r}: expected MS or ENDPOINT=MS") from None
        if name:
            self.p95_ms[name.strip()] = milliseconds
        else:
            self.default_p95_ms = milliseconds

    def p95_limit(self, endpoint: str) -> float | None:
        name = endpoint.split(" ", 1)[-1]  # "GET /api/v1/submissions" -> the path
        return self.p95_ms.get(endpoint, self.p95_ms.get(name, self.default_p95_ms))

    def violations(self, endpoints: dict[str, dict]) -> list[str]:
        """What went over a limit, one sentence each; empty when the run passed.
        `endpoints` is timeline.endpoint_summary's answer."""
        found = []
        total = endpoints.get("Aggregated", {})
        ratio = total.get("failure_ratio", 0.0)
        if self.max_failure_ratio is not None and ratio > self.max_failure_ratio:
            found.append(
                f"failure ratio {ratio:.4f} ({total['failures']} of {total['requests']}) "
                f"is over {self.max_failure_ratio}"
            )
        if not total.get("requests"):
            found.append("no request was answered at all")
        for endpoint, stats in endpoints.items():
            if endpoint == "Aggregated":
                continue
            limit = self.p95_limit(endpoint)
            if limit is not None and stats["p95_ms"] is not None and stats["p95_ms"] > limit:
                found.append(f"{endpoint}: p95 {stats['p95_ms']:.0f} ms is over {limit:.0f} ms")
        unknown = set(self.p95_ms) - {
            name for endpoint in endpoints for name in (endpoint, endpoint.split(" ", 1)[-1])
        }
        found += [f"--max-p95-ms names {name!r}, which no request had" for name in sorted(unknown)]
        return found
