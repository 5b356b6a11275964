"""A throwaway Redis server (Debian's redis-server) on a free loopback port.

In memory only: no snapshot or append-only file is written, and it listens on
127.0.0.1 alone, without a password, like the other test servers.
"""

import shutil
import socket

from tooling.servers.net import LOOPBACK, free_port
from tooling.servers.process import ServerProcess, ServerStartError


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if not found:
        raise ServerStartError(
            "redis-server is not installed: run scripts/install-system-packages --test"
        )
    return found


class RedisServer(ServerProcess):
    name = "redis"

    def __init__(self, *, port: int | None = None) -> None:
        super().__init__()
        self.port = port or free_port()
        self.url = f"redis://{LOOPBACK}:{self.port}/0"

    def command(self) -> list[str]:
        return [
            redis_server_binary(),
            "--bind", LOOPBACK,
            "--port", str(self.port),
            "--dir", str(self.workdir),
            # Nothing to keep: no RDB snapshots, no append-only file.
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
        ]  # fmt: skip

    def is_ready(self) -> bool:
        return self.command_reply(b"PING") == b"+PONG\r\n"

    def command_reply(self, command: bytes) -> bytes | None:
        """One inline command (PING, DBSIZE, FLUSHALL) and the first line of its reply."""
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=1) as connection:
                connection.sendall(command + b"\r\n")
                return connection.makefile("rb").readline()
        except OSError:
            return None

    def flush(self) -> None:
        """Forgets every key, so each test starts with no counts."""
        if self.command_reply(b"FLUSHALL") != b"+OK\r\n":
            raise ServerStartError(f"FLUSHALL failed on {self.url}")
