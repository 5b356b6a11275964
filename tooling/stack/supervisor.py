"""The process that owns a running stack: starts every part, keeps them running, stops
them all on SIGTERM.

`scripts/stack up` starts it in the background, in its own session, so the stack
outlives the command; it writes the stack's description (tooling/stack/state.py) as it
goes. Every part is a server of tooling/servers, the same the tests and benchmarks
start. A part that dies (kill -9, out of memory) is started again on the same port,
after a pause that doubles after each failed start (up to RESTART_PAUSE_MAX): the
automation that brings a crashed app server back into the load balancer's pool.

`scripts/stack stop NAME` holds a part stopped (a file HELD_DIR/NAME, which this process
reads every CHECK_EVERY_SECONDS): it is shut down cleanly and not restarted until
`scripts/stack start NAME` removes the file. That is how a test takes the database away
for a few seconds and brings the same one back, on its port, with its data.
"""

import contextlib
import logging
import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tooling.servers import (
    Gunicorn,
    Nginx,
    PostgresCluster,
    RedisServer,
    SeaweedS3,
    ServerStartError,
    run_python,
)
from tooling.servers.nginx import CDN_SOURCE_ADDRESS, throwaway_rsa_key
from tooling.servers.process import ServerProcess
from tooling.stack.cgroups import Cgroup, Share
from tooling.stack.state import (
    FAILED,
    READY,
    STARTING,
    STOPPING,
    process_record,
    remove_state,
    write_state,
)

log = logging.getLogger("stack")

BUCKET = "photos"
CHECK_EVERY_SECONDS = 0.5
RESTART_PAUSE_MIN, RESTART_PAUSE_MAX = 1.0, 30.0
# In the state folder: one empty file per part held stopped, named after the part.
HELD_DIR = "held"
# A part that has run this long since its last start is healthy again: its next crash
# is restarted after the shortest pause.
STABLE_AFTER_SECONDS = 60.0


@dataclass(frozen=True)
class StackOptions:
    app_servers: int
    share: Share
    workers: int
    onnx_model: Path
    proxy_settings: dict[str, str] = field(default_factory=dict)


class StopRequested(Exception):
    """SIGTERM or SIGINT: stop everything and exit."""


class ConfinedGunicorn(Gunicorn):
    """An app server whose processes all run in its own cgroup: the master joins it
    before it starts, so every worker it forks starts there too."""

    def __init__(self, env: dict[str, str], *, cgroup: Cgroup, workers: int) -> None:
        super().__init__(env, workers=workers)
        self.cgroup = cgroup

    def popen_options(self) -> dict[str, Any]:
        # Runs in the child, between fork and exec.
        return {**super().popen_options(), "preexec_fn": self.cgroup.add_current_process}


@dataclass
class Part:
    """One server of the stack and what the supervisor knows about it."""

    role: str
    name: str
    server: ServerProcess
    url: str
    port: int
    health_url: str | None = None
    cgroup: Cgroup | None = None
    share: Share | None = None
    restarts: int = 0
    restart_at: float | None = None  # set while it is down
    held: bool = False  # stopped on request (scripts/stack stop), not restarted
    pause: float = RESTART_PAUSE_MIN
    up_since: float = field(default_factory=time.monotonic)

    def describe(self) -> dict[str, Any]:
        process = self.server.process
        pids: list[int] = []
        if self.server.running:
            with contextlib.suppress(OSError):
                pids = self.server.pids()
        described = {
            "role": self.role,
            "name": self.name,
            "url": self.url,
            "port": self.port,
            **process_record(process.pid if process and self.server.running else 0),
            "pids": pids,
            "health_url": self.health_url,
            "log": str(self.server.log_path),
            "workdir": str(self.server.workdir),
            "running": self.server.running,
            "restarts": self.restarts,
            "held": self.held,
            "cgroup": None,
        }
        if self.cgroup and self.share:
            described["cgroup"] = {
                "name": self.cgroup.name,
                "version": self.cgroup.version,
                "directories": [str(path) for path in self.cgroup.directories],
                "limit_files": {what: str(path) for what, path in self.cgroup.limit_files.items()},
                "cpu": self.share.cpu,
                "memory_bytes": self.share.memory_bytes,
            }
        return described


class Supervisor:
    def __init__(self, state_dir: Path, options: StackOptions) -> None:
        self.state_dir = state_dir
        self.options = options
        self.parts: list[Part] = []
        self.environment: dict[str, str] = {}
        self.status = STARTING
        self.error = ""
        self.base_url = ""
        self._written: dict[str, Any] | None = None

    # --- The state file ----------------------------------------------------------------

    def write(self) -> None:
        state = {
            "status": self.status,
            "error": self.error,
            "base_url": self.base_url,
            "supervisor": process_record(os.getpid()),
            "parts": [part.describe() for part in self.parts],
            "environment": self.environment,
        }
        if state != self._written:
            write_state(self.state_dir, state)
            self._written = state

    # --- Starting ------------------------------------------------------------------------

    def add(self, part: Part) -> Part:
        """Starts the part, recorded first so that `down` finds even a half-started one."""
        self.parts.append(part)
        self.write()
        part.server.start()
        part.up_since = time.monotonic()
        self.write()
        log.info("%s (%s) ready at %s", part.name, part.role, part.url)
        return part

    def start_all(self) -> None:
        postgres = PostgresCluster()
        self.add(Part("database", "postgres", postgres, postgres.url, postgres.port))
        redis = RedisServer()
        self.add(Part("shared-cache", "redis", redis, redis.url, redis.port))
        s3 = SeaweedS3()
        self.add(Part("object-store", "s3", s3, s3.endpoint_url, s3.ports["s3"]))
        # Private: only the CDN's address may read objects unsigned (as CloudFront's OAC).
        s3.create_bucket(BUCKET, readable_from=CDN_SOURCE_ADDRESS)
        cdn = Nginx.cdn(s3.endpoint_url, BUCKET, source_address=CDN_SOURCE_ADDRESS)
        self.add(Part("cdn", "cdn", cdn, cdn.url, cdn.port))

        self.environment = self.app_environment(postgres, redis, s3, cdn)
        self.prepare_app()

        app_addresses = []
        for number in range(1, self.options.app_servers + 1):
            name = f"app{number}"
            cgroup = Cgroup(f"birdai-stack-{os.getpid()}-{name}")
            cgroup.create(self.options.share)
            app = ConfinedGunicorn(
                {**self.environment, "APP_SERVER_NAME": name},
                cgroup=cgroup,
                workers=self.options.workers,
            )
            part = Part(
                "app-server",
                name,
                app,
                app.url,
                int(app.address.rsplit(":", 1)[1]),
                health_url=app.health_url,
                cgroup=cgroup,
                share=self.options.share,
            )
            self.add(part)
            app_addresses.append(app.address)

        proxy = Nginx.load_balancer(app_addresses, **self.options.proxy_settings)
        self.add(
            Part(
                "load-balancer",
                "proxy",
                proxy,
                proxy.url,
                proxy.port,
                health_url=proxy.url + "/nginx-health",
            )
        )
        self.base_url = proxy.url

    def app_environment(
        self, postgres: PostgresCluster, redis: RedisServer, s3: SeaweedS3, cdn: Nginx
    ) -> dict[str, str]:
        """What every app server gets: production-like settings, the shared parts."""
        var_dir = self.state_dir / "var"
        var_dir.mkdir(parents=True, exist_ok=True)
        # The CDN stand-in does not check signatures, but the app signs its photo links
        # as for CloudFront, so the stack runs the same code as production.
        key_file = self.state_dir / "cloudfront-key.pem"
        if not key_file.exists():
            key_file.touch(mode=0o600)
            key_file.write_text(throwaway_rsa_key())
        return {
            "BIRDAI_VAR_DIR": str(var_dir),
            "DEBUG": "false",
            # One key for all app servers: a session signed by one is valid on all.
            "SECRET_KEY": secrets.token_urlsafe(40),
            "DATABASE_URL": postgres.url,
            "REDIS_URL": redis.url,
            **s3.django_environment(BUCKET),
            "AWS_S3_CUSTOM_DOMAIN": cdn.url.removeprefix("http://"),
            "AWS_S3_URL_PROTOCOL": "http:",
            "AWS_CLOUDFRONT_KEY_ID": "STACK-STAND-IN",
            "AWS_CLOUDFRONT_KEY_FILE": str(key_file),
            # nginx is the one proxy in front: the client's address is its last hop.
            "TRUSTED_PROXY_COUNT": "1",
            # POST /api/v1/signup and /api/v1/token: the course's grader signs up its
            # own users, and the assignment tells students to turn this on.
            "API_SIGNUP_ENABLED": "true",
            "CLASSIFIER_BACKEND": "onnx",
            "CLASSIFIER_ONNX_PATH": str(self.options.onnx_model),
            "CLASSIFIER_THREADS": "1",
            "GUNICORN_WORKERS": str(self.options.workers),
            "GUNICORN_THREADS": "1",
        }

    def prepare_app(self) -> None:
        """Migrations before any app server starts; the static files' hashed copies
        (DEBUG is off); the classifier's ONNX file if it is not there yet."""
        started = time.monotonic()
        run_python(["manage.py", "migrate", "--noinput", "--verbosity=0"], self.environment)
        run_python(["manage.py", "collectstatic", "--noinput", "--verbosity=0"], self.environment)
        run_python(
            ["manage.py", "export_onnx", "--if-missing", "--output", str(self.options.onnx_model)],
            self.environment,
        )
        log.info("migrated, static files collected in %.1f s", time.monotonic() - started)

    # --- Keeping it running ----------------------------------------------------------------

    def supervise_once(self) -> None:
        now = time.monotonic()
        held = held_parts(self.state_dir)
        for part in self.parts:
            if part.name in held or part.held:
                self.hold_or_release(part, wanted=part.name in held)
                continue
            if part.server.running:
                if now - part.up_since > STABLE_AFTER_SECONDS:
                    part.pause = RESTART_PAUSE_MIN
                continue
            if part.restart_at is None:
                # Just found dead: take down what is left of its process group.
                part.server.kill()
                part.restart_at = now + part.pause
                log.warning("%s died; starting it again in %.0f s", part.name, part.pause)
            elif now >= part.restart_at:
                self.restart(part)

    def hold_or_release(self, part: Part, *, wanted: bool) -> None:
        """Stops a part asked to be held (cleanly: PostgreSQL rolls back and closes its
        connections), or starts it again once the hold is lifted."""
        if wanted and not part.held:
            log.warning("%s stopped on request (scripts/stack stop)", part.name)
            part.server.stop()
            part.held, part.restart_at = True, None
        elif not wanted:
            part.held = False
            self.restart(part)
            if part.restart_at is None:
                log.info("%s started again on request (scripts/stack start)", part.name)

    def restart(self, part: Part) -> None:
        part.restarts += 1
        try:
            part.server.start()
        except ServerStartError as error:
            part.pause = min(part.pause * 2, RESTART_PAUSE_MAX)
            part.restart_at = time.monotonic() + part.pause
            log.error("%s did not start (%s); next try in %.0f s", part.name, error, part.pause)
            return
        part.restart_at = None
        part.up_since = time.monotonic()
        log.info("%s is back at %s (restart %d)", part.name, part.url, part.restarts)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, _stop_requested)
        signal.signal(signal.SIGINT, _stop_requested)
        exit_code = 0
        try:
            self.write()
            self.start_all()
            self.status = READY
            self.write()
            log.info("stack ready at %s", self.base_url)
            while True:
                self.supervise_once()
                self.write()
                time.sleep(CHECK_EVERY_SECONDS)
        except StopRequested:
            log.info("stopping")
        except Exception as error:
            log.exception("the stack failed")
            self.status, self.error = FAILED, f"{type(error).__name__}: {error}"
            exit_code = 1
        finally:
            # Nothing interrupts the shutdown itself.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            self.stop_all()
        return exit_code

    def stop_all(self) -> None:
        """The proxy first (no new requests), then the app servers, then what they use."""
        if self.status != FAILED:
            self.status = STOPPING
        self.write()
        for part in reversed(self.parts):
            try:
                part.server.close()
            except Exception:
                log.exception("stopping %s", part.name)
            if part.cgroup:
                with contextlib.suppress(OSError):
                    part.cgroup.remove()
        if self.status == FAILED:
            self.parts = []
            self.write()  # up reads the error from it
        else:
            remove_state(self.state_dir)


def held_parts(state_dir: Path) -> set[str]:
    """The names of the parts `scripts/stack stop` asked to hold stopped."""
    with contextlib.suppress(FileNotFoundError):
        return {path.name for path in (state_dir / HELD_DIR).iterdir()}
    return set()


def _stop_requested(signum: int, frame: object) -> None:
    raise StopRequested
