"""CPU and memory shares for one app server: a Linux control group (cgroup).

A cgroup caps what the processes in it may use together: `cpu` cores' worth of CPU time
(the kernel lets them run `cpu` x period microseconds in each period) and `memory_bytes`
of memory (past it the kernel reclaims, then kills one of them). That is how one machine
stands in for several smaller instances.

Two layouts exist. cgroup v1 mounts one tree per controller (/sys/fs/cgroup/cpu/NAME,
/sys/fs/cgroup/memory/NAME); cgroup v2 has a single tree (/sys/fs/cgroup/NAME) with
cpu.max and memory.max. Both need root.
"""

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
# The period the CPU quota is counted in: 100 ms, the kernel's default.
CFS_PERIOD_US = 100_000


def cgroup_version(root: Path = CGROUP_ROOT) -> int:
    """2 when the unified v2 tree is mounted at `root`, 1 for per-controller trees."""
    if (root / "cgroup.controllers").exists():
        return 2
    if (root / "cpu" / "cpu.cfs_quota_us").exists() and (root / "memory").is_dir():
        return 1
    raise RuntimeError(f"no cgroup v1 cpu+memory or v2 tree under {root}")


@dataclass(frozen=True)
class Share:
    """What one app server may use: `cpu` cores (0.5 = half of one) and memory."""

    cpu: float
    memory_bytes: int

    @property
    def cpu_quota_us(self) -> int:
        return round(self.cpu * CFS_PERIOD_US)


class Cgroup:
    """One named group, in v1 (a directory per controller) or v2 (one directory)."""

    def __init__(self, name: str, *, root: Path = CGROUP_ROOT, version: int | None = None) -> None:
        self.name = name
        self.root = root
        self.version = version or cgroup_version(root)
        if self.version == 1:
            self.cpu_dir = root / "cpu" / name
            self.memory_dir = root / "memory" / name
        else:
            self.cpu_dir = self.memory_dir = root / name

    @property
    def directories(self) -> list[Path]:
        return sorted({self.cpu_dir, self.memory_dir})

    @property
    def limit_files(self) -> dict[str, Path]:
        """The files holding the limits, by what they limit (for status and tests)."""
        if self.version == 1:
            return {
                "cpu": self.cpu_dir / "cpu.cfs_quota_us",
                "cpu_period": self.cpu_dir / "cpu.cfs_period_us",
                "memory": self.memory_dir / "memory.limit_in_bytes",
            }
        return {"cpu": self.cpu_dir / "cpu.max", "memory": self.memory_dir / "memory.max"}

    def create(self, share: Share) -> None:
        """Makes the group (again) with these limits."""
        if self.version == 2:
            # A v2 group's parent must hand the cpu and memory controllers down.
            (self.root / "cgroup.subtree_control").write_text("+cpu +memory")
        for directory in self.directories:
            directory.mkdir(parents=True, exist_ok=True)
        files = self.limit_files
        if self.version == 1:
            files["cpu_period"].write_text(str(CFS_PERIOD_US))
            files["cpu"].write_text(str(share.cpu_quota_us))
            files["memory"].write_text(str(share.memory_bytes))
        else:
            files["cpu"].write_text(f"{share.cpu_quota_us} {CFS_PERIOD_US}")
            files["memory"].write_text(str(share.memory_bytes))

    def add_current_process(self) -> None:
        """Moves the calling process into the group; the processes it forks later
        (gunicorn's workers) start in it too. Called between fork and exec."""
        for directory in self.directories:
            (directory / "cgroup.procs").write_text(str(os.getpid()))

    def pids(self) -> set[int]:
        """The processes in the group (in every controller's directory)."""
        found: set[int] = set()
        for directory in self.directories:
            with contextlib.suppress(FileNotFoundError):
                found |= {int(pid) for pid in (directory / "cgroup.procs").read_text().split()}
        return found

    def remove(self, timeout: float = 5.0) -> None:
        """Deletes the group once its processes have gone (the kernel refuses to
        delete a group that still holds one: EBUSY, retried until `timeout`)."""
        deadline = time.monotonic() + timeout
        for directory in self.directories:
            while directory.exists():
                try:
                    directory.rmdir()
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
