"""What the proxy (nginx with the repo's load-balancer config) holds in memory for each
idle keep-alive connection, and for each megabyte in its cache: the figures that size
the proxy's instance (docs/scaling.md).

The app server behind it is a stand-in (a few lines of Python answering every GET with
CACHED_OBJECT_BYTES and `Cache-Control: public`): nginx's memory does not depend on who
made the answers, and a real app server would make filling the cache take minutes.
Memory is PSS summed over nginx's processes (master, workers, cache manager): shared
pages, such as the cache's key zone, are split between them and counted once.
"""

import contextlib
import socket
import threading
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

from bench.table import Row
from tooling.servers import Nginx, pss_bytes, rss_bytes
from tooling.servers.net import LOOPBACK, http_get

if TYPE_CHECKING:
    from bench.context import BenchContext

IDLE_CONNECTIONS = 2_000  # nginx's config allows 4,096 per worker (PROXY_WORKER_CONNECTIONS)
CACHED_OBJECT_BYTES = 256 * 1024
CACHED_OBJECTS = 400  # 100 MB, within the cache's max_size (256 MB)


class CacheableAnswers(BaseHTTPRequestHandler):
    """Every GET: the same bytes, cacheable by a shared cache for ten minutes."""

    body = bytes(range(256)) * (CACHED_OBJECT_BYTES // 256)

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(self.body)))
        self.send_header("Cache-Control", "public, max-age=600")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *arguments: object) -> None:
        pass  # quiet


def proxy_memory_rows(context: "BenchContext") -> list[Row]:
    upstream = ThreadingHTTPServer((LOOPBACK, 0), CacheableAnswers)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    try:
        with closing(Nginx.load_balancer([f"{LOOPBACK}:{upstream.server_port}"])) as proxy:
            proxy.start()
            return measure(proxy)
    finally:
        upstream.shutdown()
        upstream.server_close()


def nginx_memory(proxy: Nginx) -> tuple[float, float]:
    """PSS and RSS of all nginx's processes, in MB."""
    pids = proxy.pids()
    return (
        sum(pss_bytes(pid) for pid in pids) / 1e6,
        sum(rss_bytes(pid) for pid in pids) / 1e6,
    )


def measure(proxy: Nginx) -> list[Row]:
    # Each worker answers a few requests first: lazily allocated buffers and pools.
    for _ in range(20):
        http_get(proxy.url + "/nginx-health")
    idle_pss, idle_rss = nginx_memory(proxy)

    with contextlib.ExitStack() as connections:
        for _ in range(IDLE_CONNECTIONS):
            connections.enter_context(closing(kept_alive_connection(proxy.port)))
        connected_pss, connected_rss = nginx_memory(proxy)

    for number in range(CACHED_OBJECTS):
        answer = http_get(f"{proxy.url}/static/object-{number}.bin")
        if answer.status != 200 or answer.headers.get("X-Cache-Status") != "MISS":
            raise RuntimeError(f"object {number}: {answer.status} {answer.headers}")
    if http_get(f"{proxy.url}/static/object-0.bin").headers.get("X-Cache-Status") != "HIT":
        raise RuntimeError("the proxy did not cache what it was sent")
    cached_pss, cached_rss = nginx_memory(proxy)
    cache_mb = directory_bytes(proxy.workdir / "app_cache") / 1e6

    per_connection_kb = (connected_pss - idle_pss) * 1000 / IDLE_CONNECTIONS
    per_cached_mb = (cached_pss - idle_pss) / cache_mb
    return [
        Row(
            "proxy memory, idle",
            idle_pss,
            "MB",
            how=f"nginx (master + 2 workers + cache processes), PSS; RSS {idle_rss:.1f} MB",
        ),
        Row(
            "proxy memory per idle keep-alive connection",
            per_connection_kb,
            "KB",
            how=f"{IDLE_CONNECTIONS} connections open after one request each: PSS "
            f"{idle_pss:.1f} -> {connected_pss:.1f} MB (RSS {idle_rss:.1f} -> {connected_rss:.1f})",
        ),
        Row(
            "proxy memory per cached MB",
            per_cached_mb,
            "MB/MB",
            how=f"{CACHED_OBJECTS} objects of {CACHED_OBJECT_BYTES // 1024} KB cached "
            f"({cache_mb:.0f} MB of files, kept by the OS page cache, not in nginx): PSS "
            f"{idle_pss:.1f} -> {cached_pss:.1f} MB (RSS {idle_rss:.1f} -> {cached_rss:.1f})",
        ),
    ]


def kept_alive_connection(port: int) -> socket.socket:
    """A connection that has had one answer and now waits, idle, as a browser's does."""
    connection = socket.create_connection((LOOPBACK, port), timeout=10)
    connection.sendall(b"GET /nginx-health HTTP/1.1\r\nHost: bench\r\n\r\n")
    answer = b""
    while not answer.endswith(b"ok\n"):
        chunk = connection.recv(4096)
        if not chunk:
            raise RuntimeError("the proxy closed a kept-alive connection")
        answer += chunk
    return connection


def directory_bytes(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
