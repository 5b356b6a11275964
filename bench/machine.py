"""Where the figures were measured, and whether something else was running there."""

import os
import platform
import time
from importlib.metadata import version
from pathlib import Path

PACKAGES = ("torch", "onnxruntime", "pillow", "numpy", "gunicorn")
# Other work keeping this many CPUs busy on average, or more, slowed the benchmark.
BUSY_CPUS = 0.25


def describe_machine(threads: int) -> dict[str, str]:
    return {
        "cpu": cpu_model(),
        "cpus": str(os.cpu_count()),
        "memory": f"{memory_gib():.1f} GiB",
        "classifier_threads": str(threads),
        "python": platform.python_version(),
        **{package: version(package) for package in PACKAGES},
    }


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024**2
    return 0.0


def summary(machine: dict[str, str]) -> str:
    packages = ", ".join(f"{package} {machine[package]}" for package in PACKAGES)
    return (
        f"{machine['cpu']}, {machine['cpus']} CPUs, {machine['memory']}; "
        f"CLASSIFIER_THREADS={machine['classifier_threads']}; "
        f"Python {machine['python']}, {packages}; "
        f"other processes' CPU use during the run: {machine['other_work_cpus']} CPUs"
    )


class OtherWork:
    """How busy other processes kept the CPUs while the benchmark ran.

    All CPU time spent on the machine (/proc/stat, including time the hypervisor gave
    to other virtual machines) minus our own and our children's (os.times, which
    counts the servers we started once they have exited), per second of wall time.
    """

    def __init__(self) -> None:
        self.started = self._snapshot()

    def cpus(self, ours_elsewhere: float = 0.0) -> float:
        """`ours_elsewhere`: CPU seconds of processes the benchmark started that are not
        its children (a stack's supervisor runs in its own session)."""
        wall, everyone, ours = (
            now - then for now, then in zip(self._snapshot(), self.started, strict=True)
        )
        return max(0.0, (everyone - ours - ours_elsewhere) / wall)

    @staticmethod
    def _snapshot() -> tuple[float, float, float]:
        # /proc/stat "cpu": user nice system idle iowait irq softirq steal ... in ticks.
        # Interrupt time is left out: our own loopback traffic is counted there.
        ticks = [int(field) for field in Path("/proc/stat").read_text().split()[1:9]]
        user, nice, system, _idle, _iowait, _irq, _softirq, steal = ticks
        everyone = (user + nice + system + steal) / os.sysconf("SC_CLK_TCK")
        own = os.times()
        ours = own.user + own.system + own.children_user + own.children_system
        return time.monotonic(), everyone, ours


def busy_warning(other_cpus: float) -> str | None:
    """A note under the table when other work competed with the benchmark."""
    if other_cpus < BUSY_CPUS:
        return None
    return (
        f"Note: other processes kept {other_cpus:.2f} CPUs busy on average during this run, "
        "so these figures are slower than this machine can do. Run again when it is idle."
    )
