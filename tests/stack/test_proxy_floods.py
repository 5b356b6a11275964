"""Slow and half-open clients against the reverse proxy (issue #12, finding 3): the real nginx
configuration (docker/nginx/proxy.conf.template) in front of a real gunicorn, attacked
over loopback with raw sockets.

gunicorn's sync workers give each connection a whole worker, so two clients sending
their headers a line a second stop the app: that is why no documented deployment lets
clients reach gunicorn (tests/stack/test_deploy_docs.py, tests/stack/test_container_files.py).
nginx reads every request itself, but its old configuration (512 connections per
worker, 60 s to send the headers) fell to 1,100 half-open connections from one address
(each sent the start of a request, then nothing). Each
flood here runs against the old configuration too and must take it down: the proof
that the flood is strong enough for its pass on the new one to mean something.

Every flood is bounded (connections, seconds) and stops by itself.
"""

import errno
import http.client
import os
import resource
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tooling.servers import Gunicorn, Nginx
from tooling.servers.net import LOOPBACK, free_port

# Well over the old 2 x 512 connection slots, as in the issue.
FLOOD_CONNECTIONS = 1100
# How long a probe may take on a busy 2-core machine; a starved server never answers.
PROBE_TIMEOUT = 5.0
PROBES = 3
# A flood stops after this long whatever happens.
FLOOD_SECONDS = 30

# The reproduction: the proxy as it was before issue #12 (worker_connections 512 from
# tooling/servers/nginx.py MAIN_CONFIG, nginx's default timeouts, no limits).
OLD_LOAD_BALANCER = """
    upstream app_servers {{
        server {upstream};
    }}
    server {{
        listen {listen};
        client_max_body_size 25m;
        location / {{
            proxy_pass http://app_servers;
            proxy_set_header Host $http_host;
        }}
    }}
"""


def old_proxy(upstream: str) -> Nginx:
    port = free_port()
    config = OLD_LOAD_BALANCER.format(upstream=upstream, listen=f"{LOOPBACK}:{port}")
    return Nginx(config, port=port)


@pytest.fixture(scope="module", autouse=True)
def enough_file_descriptors():
    """The flood's sockets are this process's descriptors (and nginx inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 2 * FLOOD_CONNECTIONS + 500
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.fail(f"ulimit -Hn is {hard}; the flood tests need {needed} descriptors")
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture(scope="module")
def app_server(onnx_model, tmp_path_factory):
    """bird.ai in gunicorn with two sync workers, as in production."""
    env = {
        "BIRDAI_VAR_DIR": str(tmp_path_factory.mktemp("var")),
        "CLASSIFIER_ONNX_PATH": str(onnx_model),
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "1",
    }
    if os.environ.get("DATABASE_URL"):  # the PostGIS run: the same cluster
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    with Gunicorn(env, workers=2) as server:
        yield server


# --- The flood ------------------------------------------------------------------------


class Flood:
    """`count` connections to a port, held open by a background thread.

    Each sends the start of a request, never the empty line that ends its headers.
    Half-open ones then fall silent; slow ones send one more header line a second
    (slowloris). A connection the server closes is opened again, as an attacker would.
    (Connections that send nothing at all do not hurt nginx: when it runs out of slots
    it closes the oldest of those to make room.)
    """

    REQUEST_LINE = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"

    def __init__(self, port: int, count: int, *, slow: bool) -> None:
        self.port = port
        self.count = count
        self.slow = slow
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.opened = 0
        self.closed_by_server = 0

    def connect(self) -> tuple[socket.socket, bool]:
        """A non-blocking connection on its way, and whether its request has started."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex((LOOPBACK, self.port))
        self.opened += 1
        # At once: a connection that has sent nothing is the first nginx drops for room.
        try:
            return sock, self.feed(sock, False)
        except OSError:
            return sock, False

    def server_closed(self, sock: socket.socket) -> bool:
        try:
            sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        except OSError as error:
            return error.errno != errno.ENOTCONN  # ENOTCONN: still connecting
        return True  # b"": closed; data: an answer (408), then a close

    def feed(self, sock: socket.socket, started: bool) -> bool:
        """Sends the next piece of a slow request; whether the request has started."""
        piece = b"X-Slow: 1\r\n" if started else self.REQUEST_LINE
        try:
            sock.send(piece)
        except (BlockingIOError, InterruptedError):
            return started
        except OSError as error:
            if error.errno in (errno.ENOTCONN, errno.EAGAIN):
                return started
            raise
        return True

    def run(self) -> None:
        connections = [self.connect() for _ in range(self.count)]
        deadline = time.monotonic() + FLOOD_SECONDS
        while not self.stop_event.wait(1.0) and time.monotonic() < deadline:
            for index, (sock, started) in enumerate(connections):
                try:
                    if self.server_closed(sock):
                        raise ConnectionResetError
                    if self.slow or not started:
                        started = self.feed(sock, started)
                    connections[index] = (sock, started)
                except OSError:
                    self.closed_by_server += 1
                    sock.close()
                    connections[index] = self.connect()
        for sock, _ in connections:
            sock.close()

    def __enter__(self) -> "Flood":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop_event.set()
        self.thread.join(timeout=FLOOD_SECONDS + 10)


def probe(base_url: str, path: str = "/healthz") -> str:
    """'200' if the server answers in time, else what went wrong."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=PROBE_TIMEOUT)
    try:
        connection.request("GET", path)
        return str(connection.getresponse().status)
    except OSError as error:  # a timeout or a refused/reset connection
        return type(error).__name__
    finally:
        connection.close()


def probes_during(flood: Flood, base_url: str) -> list[str]:
    """Probes once the flood's connections are in, a second apart."""
    with flood:
        time.sleep(2.5)
        results = []
        for _ in range(PROBES):
            results.append(probe(base_url))
            time.sleep(1)
    return results


@contextmanager
def proxy_in_front_of(app_server: Gunicorn, *, old: bool) -> Iterator[Nginx]:
    server = old_proxy(app_server.address) if old else Nginx.load_balancer([app_server.address])
    with server:
        assert probe(server.url) == "200"
        yield server


# --- gunicorn facing clients: why it never does ----------------------------------------


def test_two_slow_clients_stop_gunicorn_when_it_faces_them(app_server):
    """The finding itself: both sync workers wait for headers that never end."""
    assert probe(app_server.url) == "200"
    with Flood(int(app_server.address.rsplit(":", 1)[1]), 2, slow=True) as flood:
        time.sleep(2.5)
        result = probe(app_server.url)
        flood.stop_event.set()
    assert result == "TimeoutError"
    # Once the slow clients leave, the workers are free again.
    deadline = time.monotonic() + 30
    while probe(app_server.url) != "200":
        assert time.monotonic() < deadline, "gunicorn did not recover"


# --- Through the proxy -----------------------------------------------------------------


@pytest.mark.parametrize("slow", [False, True], ids=["half-open", "slow-headers"])
def test_a_flood_through_the_proxy_leaves_healthz_answering(app_server, slow):
    with proxy_in_front_of(app_server, old=False) as proxy:
        flood = Flood(proxy.port, FLOOD_CONNECTIONS, slow=slow)
        results = probes_during(flood, proxy.url)
        assert flood.opened >= FLOOD_CONNECTIONS
        assert results == ["200"] * PROBES, proxy.log_tail()


@pytest.mark.parametrize("slow", [False, True], ids=["half-open", "slow-headers"])
def test_the_same_flood_took_the_old_proxy_configuration_down(app_server, slow):
    with proxy_in_front_of(app_server, old=True) as proxy:
        flood = Flood(proxy.port, FLOOD_CONNECTIONS, slow=slow)
        results = probes_during(flood, proxy.url)
        assert "200" not in results, (results, flood.opened, flood.closed_by_server)


def test_the_proxy_closes_a_connection_that_sends_no_complete_headers(app_server):
    """client_header_timeout (10 s) bounds how long a slow or half-open client holds a slot."""
    with proxy_in_front_of(app_server, old=False) as proxy:
        started = time.monotonic()
        with socket.create_connection((LOOPBACK, proxy.port), timeout=1) as sock:
            sock.sendall(Flood.REQUEST_LINE)
            answer = b""
            while time.monotonic() - started < 30:
                try:
                    chunk = sock.recv(4096)
                except TimeoutError:
                    try:
                        sock.send(b"X-Slow: 1\r\n")
                    except OSError:
                        break
                    continue
                if not chunk:
                    break
                answer += chunk
        assert time.monotonic() - started < 20
        # nginx closes the connection (408 in its log); the slot is free again.
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer[:80]
