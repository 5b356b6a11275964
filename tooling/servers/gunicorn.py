"""The bird.ai app served by gunicorn, as in production, on a free loopback port; and its
manage.py commands, run the same way (run_python)."""

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tooling.servers.net import LOOPBACK, free_port, http_status
from tooling.servers.process import ServerProcess, child_pids

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Gunicorn(ServerProcess):
    name = "gunicorn"
    # Each worker (or, preloaded, the master) loads Django and warms the classifier first.
    startup_timeout = 60.0
    # SIGTERM lets workers finish their requests (gunicorn.conf.py: graceful_timeout).
    stop_timeout = 30.0

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        app: str = "birdai.wsgi:application",
        config: str | None = "gunicorn.conf.py",
        cwd: Path = PROJECT_ROOT,
        health_path: str = "/healthz",
        workers: int | None = None,
        port: int | None = None,
    ) -> None:
        """`env` is added to this process's environment (DATABASE_URL, GUNICORN_THREADS...).

        With `workers`, start() also waits until that many workers run; without it, the
        config file decides (GUNICORN_WORKERS) and start() waits for the first answer.
        """
        super().__init__()
        self.env = dict(env or {})
        self.workers = workers
        self.app = app
        self.config = config
        self.cwd = cwd
        self.address = f"{LOOPBACK}:{port or free_port()}"
        self.url = f"http://{self.address}"
        self.health_url = self.url + health_path

    def command(self) -> list[str]:
        # The gunicorn of the virtualenv running the tests, so both use the same packages.
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        config = ["--config", self.config] if self.config else []
        workers = ["--workers", str(self.workers)] if self.workers else []
        # The command line wins over the config file (and its GUNICORN_* defaults).
        return [gunicorn, *config, "--bind", self.address, *workers, self.app]

    def popen_options(self) -> dict[str, Any]:
        env = {**os.environ, **self.env, "GUNICORN_BIND": self.address}
        return {"cwd": self.cwd, "env": env}

    def is_ready(self) -> bool:
        # The first worker may answer before the master has forked the others.
        if self.workers and len(child_pids(self.process.pid)) < self.workers:
            return False
        return http_status(self.health_url) == 200


def run_python(
    arguments: list[str], env: Mapping[str, str] | None = None, *, timeout: float = 300
) -> str:
    """Runs this Python in the project folder, e.g. ["manage.py", "migrate"], with `env`
    added to this process's environment; returns what it printed, or raises RuntimeError
    with the end of its error output."""
    finished = subprocess.run(
        [sys.executable, *arguments],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{finished.stderr[-2000:]}")
    return finished.stdout


def prepare_app(env: Mapping[str, str], username: str) -> str:
    """Migrates the database `env` names (DATABASE_URL) and adds one user, who has no
    password; returns a new API token of theirs, to send requests as them."""
    run_python(["manage.py", "migrate", "--noinput", "--verbosity=0"], env)
    create_user = (
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create_user({username!r})"
    )
    run_python(["manage.py", "shell", "-c", create_user], env)
    return run_python(["manage.py", "create_api_token", username], env).strip()
