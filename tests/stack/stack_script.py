"""`scripts/stack` as the stack's tests run it: a subprocess with its own state folder,
as a student or a grader would type it."""

import json
import subprocess
from pathlib import Path

from tooling.servers.gunicorn import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "stack"


def stack(state_dir: Path, *arguments: str, timeout: float = 360) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPT), "--state-dir", str(state_dir), *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def status(state_dir: Path) -> dict:
    """`scripts/stack status --json`: each part's role, name, URL, PIDs and health."""
    return json.loads(stack(state_dir, "status", "--json").stdout)
