"""A throwaway PostgreSQL + PostGIS cluster on a free loopback port.

Fast and disposable, not durable: fsync is off, and anyone on this machine may
connect as the superuser `postgres` without a password (trust authentication), but
only over 127.0.0.1.
"""

import os
import pwd
import signal
import subprocess
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from tooling.servers.net import LOOPBACK, free_port
from tooling.servers.process import ServerProcess, ServerStartError

SUPERUSER = "postgres"


def postgres_bin_dir() -> Path:
    """Debian keeps the server binaries out of PATH, one directory per major version."""
    if configured := os.environ.get("BIRDAI_PG_BIN_DIR"):
        return Path(configured)
    installed = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name)
    )
    if not installed:
        raise ServerStartError(
            "PostgreSQL is not installed: run scripts/install-system-packages --test"
        )
    return installed[-1]


class PostgresCluster(ServerProcess):
    name = "postgres"
    # "Fast" shutdown: roll back open transactions instead of waiting for clients to leave.
    stop_signal = signal.SIGINT

    def __init__(self, *, database: str = "birdai", port: int | None = None) -> None:
        super().__init__()
        self.database = database
        self.port = port or free_port()
        self.data_dir = self.workdir / "data"
        self.bin_dir = postgres_bin_dir()
        # dj-database-url reads postgres:// as PostgreSQL, which settings.py turns into
        # the PostGIS engine; psycopg accepts the same URL.
        self.url = self.url_for(database)

    def url_for(self, database: str) -> str:
        return f"postgres://{SUPERUSER}@{LOOPBACK}:{self.port}/{database}"

    def connect(self, database: str | None = None) -> psycopg.Connection:
        return psycopg.connect(self.url_for(database or self.database), autocommit=True)

    def popen_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"cwd": self.workdir}
        # PostgreSQL refuses to run as root; as root, run it as the postgres user.
        if os.geteuid() == 0:
            options.update(user=SUPERUSER, group=SUPERUSER, extra_groups=[])
        return options

    def before_first_start(self) -> None:
        if os.geteuid() == 0:
            owner = pwd.getpwnam(SUPERUSER)
            os.chown(self.workdir, owner.pw_uid, owner.pw_gid)
        initdb = subprocess.run(
            [
                self.bin_dir / "initdb",
                f"--pgdata={self.data_dir}",
                f"--username={SUPERUSER}",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                # Skip the fsync of the new files: the cluster is thrown away anyway.
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            check=False,
            **self.popen_options(),
        )
        if initdb.returncode != 0:
            raise ServerStartError(f"initdb failed:\n{initdb.stdout}{initdb.stderr}")

    def command(self) -> list[str]:
        return [
            str(self.bin_dir / "postgres"),
            "-D", str(self.data_dir),
            "-p", str(self.port),
            "-c", f"listen_addresses={LOOPBACK}",
            # The Unix socket goes to the private temp dir, not the system's /var/run.
            "-c", f"unix_socket_directories={self.workdir}",
            # Durability costs time and a test database never needs to survive a crash.
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
        ]  # fmt: skip

    def is_ready(self) -> bool:
        # The port opens before the server accepts queries ("the database system is
        # starting up"), so only a successful query counts; and it must be this
        # cluster answering, not another one that already had the port.
        try:
            with psycopg.connect(self.url_for("postgres"), connect_timeout=1) as connection:
                (data_dir,) = connection.execute("SHOW data_directory").fetchone()
        except psycopg.OperationalError:
            return False
        if data_dir != str(self.data_dir):
            raise ServerStartError(f"port {self.port} is taken by the cluster in {data_dir}")
        return True

    def after_first_start(self) -> None:
        # New databases are copies of template1, so the ones Django creates for tests
        # (test_birdai) get PostGIS without needing the right to create extensions.
        with self.connect("template1") as connection:
            connection.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        with self.connect("postgres") as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
