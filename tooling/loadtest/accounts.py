"""The signed-in users of a load test: made beforehand, read from a file.

A load test must not sign up its users while it measures (sign-up is rate-limited per
address and costs a password hash each), so `make_users` creates them first (manage.py
create_load_test_users), each with a password (for the pages, which need a browser
session) and an API token (for the API). `scripts/loadtest users` runs it against the
database DATABASE_URL names or, with --stack, through `scripts/stack manage`.

The credentials file is JSON: [{"username": ..., "password": ..., "token": ...}, ...].
A plain text file with one API token per line also works: those users then use the
API only (no session, so no /history/ page).
"""

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from tooling.servers.gunicorn import PROJECT_ROOT


@dataclass(frozen=True)
class Credentials:
    token: str
    username: str = ""
    password: str = ""  # empty: API only


def read_credentials(path: Path) -> list[Credentials]:
    text = path.read_text()
    if text.lstrip().startswith("["):
        return [Credentials(**entry) for entry in json.loads(text)]
    return [Credentials(token=line.strip()) for line in text.splitlines() if line.strip()]


def write_credentials(path: Path, credentials: list[Credentials]) -> None:
    # Passwords and tokens: readable by their owner only, from the first byte on.
    path.unlink(missing_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(json.dumps([asdict(entry) for entry in credentials], indent=1) + "\n")


# manage.py, as run_python runs it: this Python, in the project folder.
LOCAL_MANAGE = [sys.executable, "manage.py"]
# The stack's (scripts/stack): its database and settings, whatever they are.
STACK_MANAGE = [str(PROJECT_ROOT / "scripts" / "stack"), "manage"]


def make_users(
    count: int,
    env: Mapping[str, str] | None = None,
    *,
    prefix: str | None = None,
    manage: list[str] = LOCAL_MANAGE,
    migrate: bool = True,
) -> list[Credentials]:
    """Creates `count` users with a password and an API token each, by running
    `manage.py create_load_test_users` (through `manage`: this project's manage.py with
    `env` added to the environment, e.g. DATABASE_URL; or STACK_MANAGE). Names are
    `prefix` + a number, by default a fresh random prefix, so runs do not share users."""
    prefix = prefix or f"load-{secrets.token_hex(3)}-"
    if migrate:
        manage_py(manage, ["migrate", "--noinput", "--verbosity=0"], env)
    output = manage_py(manage, ["create_load_test_users", str(int(count)), "--prefix", prefix], env)
    # Other lines (warnings) may come first; the JSON is the last line.
    return [Credentials(**entry) for entry in json.loads(output.strip().splitlines()[-1])]


def manage_py(manage: list[str], arguments: list[str], env: Mapping[str, str] | None) -> str:
    finished = subprocess.run(
        [*manage, *arguments],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{finished.stderr[-2000:]}")
    return finished.stdout
