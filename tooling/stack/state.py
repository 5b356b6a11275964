"""The running stack, described in one JSON file (var/stack/state.json by default).

The supervisor writes it whenever something changes; `scripts/stack status` and `down`,
the tests, the load test and a grader read it to find each part and its processes:

    {"status": "ready", "base_url": "http://127.0.0.1:PORT",
     "supervisor": {"pid": ..., "started": ...},
     "parts": [{"role": "app-server", "name": "app1", "url": ..., "port": ...,
                "pid": ..., "pids": [...], "health_url": ..., "cgroup": {...},
                "restarts": 0, "log": ...}, ...],
     "environment": {...}}   # what the app servers get; `manage` runs with it

A process id alone is not proof: once a process has ended, the kernel may give its
number to another. Each recorded pid comes with its start time (`started`, clock ticks
after boot), and only a process with both is taken to be ours.
"""

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from tooling.servers.gunicorn import PROJECT_ROOT

DEFAULT_STATE_DIR = PROJECT_ROOT / "var" / "stack"
STATE_FILE = "state.json"

# The stack's life: starting -> ready -> stopping, or failed.
STARTING, READY, STOPPING, FAILED = "starting", "ready", "stopping", "failed"


def state_path(state_dir: Path) -> Path:
    return state_dir / STATE_FILE


def read_state(state_dir: Path) -> dict[str, Any] | None:
    """The stack's description, or None when no stack was started from this folder."""
    try:
        return json.loads(state_path(state_dir).read_text())
    except FileNotFoundError:
        return None


def write_state(state_dir: Path, state: dict[str, Any]) -> None:
    """Replaces the file at once (a reader never sees half of it); readable by its
    owner only, as it holds the stack's S3 key."""
    path = state_path(state_dir)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(state, indent=2))
    partial.chmod(0o600)
    partial.replace(path)


def remove_state(state_dir: Path) -> None:
    state_path(state_dir).unlink(missing_ok=True)


def start_ticks(pid: int) -> int | None:
    """When the process started (clock ticks after boot), or None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime


def same_process(pid: int | None, started: int | None) -> bool:
    """True while the process `pid` that started at `started` is still there (a
    zombie, dead but not yet reaped, does not count)."""
    if not pid or started is None or start_ticks(pid) != started:
        return False
    with contextlib.suppress(FileNotFoundError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("State:"):
                return "zombie" not in line
    return False


def process_record(pid: int) -> dict[str, int | None]:
    return {"pid": pid, "started": start_ticks(pid)}


def alive_pids(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, 0)
            alive.append(pid)
    return alive
