"""PNG plots of a run, from its samples (timeline.py): what a report reader looks at
first. matplotlib draws them off-screen (the Agg backend: no display needed)."""

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: files only, no window
import matplotlib.pyplot as plt

from tooling.loadtest.timeline import Sample, windows

DPI = 100
SIZE = (10, 4)


def plot_window_seconds(duration: float) -> float:
    """Wide enough for a few requests per point, narrow enough to show change."""
    return 1.0 if duration <= 60 else 5.0 if duration <= 600 else 15.0


def write_plots(
    directory: Path,
    samples: list[Sample],
    duration: float,
    users: list[tuple[float, int]],
) -> list[Path]:
    """throughput.png, latency.png, failures.png and servers.png; returns their paths."""
    step = plot_window_seconds(duration)
    buckets = windows(samples, step, until=duration)
    times = [bucket.end for bucket in buckets]
    servers = sorted({s.server for s in samples})
    paths = []

    figure, axes = plt.subplots(figsize=SIZE)
    axes.plot(times, [b.requests_per_second for b in buckets], label="all requests")
    axes.set(xlabel="seconds", ylabel="requests/s", title="Throughput")
    if users:
        twin = axes.twinx()
        twin.step([t for t, _ in users], [n for _, n in users], "k:", where="post", label="users")
        twin.set_ylabel("users")
        twin.legend(loc="upper right")
    axes.legend(loc="upper left")
    paths.append(save(figure, directory / "throughput.png"))

    figure, axes = plt.subplots(figsize=SIZE)
    axes.plot(times, [b.p(0.50) for b in buckets], label="p50")
    axes.plot(times, [b.p(0.95) for b in buckets], label="p95")
    axes.axhline(500, color="grey", linestyle="--", linewidth=0.8, label="500 ms")
    axes.set(xlabel="seconds", ylabel="ms", title=f"Latency, all requests ({step:g} s windows)")
    axes.legend()
    paths.append(save(figure, directory / "latency.png"))

    figure, axes = plt.subplots(figsize=SIZE)
    axes.bar(times, [b.failures / b.seconds for b in buckets], width=step * 0.9, color="tab:red")
    total = sum(s.failed for s in samples)
    axes.set(xlabel="seconds", ylabel="failures/s", title=f"Failures ({total} in all)")
    paths.append(save(figure, directory / "failures.png"))

    figure, (rate_axes, p95_axes) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for server in servers:
        mine = [[s for s in b.samples if s.server == server] for b in buckets]
        rate_axes.plot(times, [len(m) / step for m in mine], label=server)
        p95s = [
            sorted(x.ms for x in m)[math.ceil(0.95 * len(m)) - 1] if m else math.nan for m in mine
        ]
        p95_axes.plot(times, p95s, label=server)
    rate_axes.set(ylabel="requests/s", title="Per app server (X-Served-By)")
    p95_axes.set(xlabel="seconds", ylabel="p95 ms")
    rate_axes.legend()
    paths.append(save(figure, directory / "servers.png"))
    return paths


def write_capacity_plot(path: Path, steps: list[dict], limit_ms: float) -> Path:
    """Step load: the rate served against its p95, one point per step."""
    figure, axes = plt.subplots(figsize=SIZE)
    rates = [step["requests_per_second"] for step in steps]
    axes.plot(rates, [step["p95_ms"] for step in steps], "o-", label="p95")
    axes.plot(rates, [step["p50_ms"] for step in steps], "o-", label="p50")
    for step, rate in zip(steps, rates, strict=True):
        axes.annotate(f"{step['users']} users", (rate, step["p95_ms"]), fontsize=7)
    axes.axhline(limit_ms, color="grey", linestyle="--", label=f"{limit_ms:g} ms")
    axes.set(xlabel="requests/s served", ylabel="ms", title="Step load: latency against rate")
    axes.legend()
    return save(figure, path)


def save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path
