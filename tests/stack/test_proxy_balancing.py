"""Which app server the proxy sends a request to (docker/nginx/proxy.conf.template,
`least_conn`): the one with the fewest requests in flight, not the next in turn.

An app server in the stack is one sync gunicorn worker: it answers one request at a
time, and the next ones wait in its listen queue. Sent in turn, every other quick
request queued behind a slow upload on one server while the other stood idle; in the
5-minute soak that made classify's p95 jump between 94 and 149 ms from one minute to
the next (`make soak SOAK_SECONDS=600 RATE=35`, round robin), and 72 to 76 ms in the
first five minutes with least_conn (issue #14).

Stand-ins with one thread each play the two app servers, so what is tested is nginx
alone: server A is kept busy by a slow request; the quick requests sent meanwhile must
all be answered by B. Sent in turn, half of them would wait for A, and be answered by
it once it is free.
"""

import http.client
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tooling.servers import Nginx
from tooling.servers.net import LOOPBACK

pytestmark = pytest.mark.database_independent

QUICK_REQUESTS = 6
# How long the slow request holds server A at most: it only bounds a failing test.
HOLD_SECONDS = 5.0


class OneAtATime(HTTPServer):
    """An app server with one sync worker: one request at a time. GET /slow holds it
    until `release` is set; any other GET answers at once. Every answer names the
    server (X-Served-By, as the app's APP_SERVER_NAME does)."""

    def __init__(self, name: str) -> None:
        super().__init__((LOOPBACK, 0), SlowOrQuick)
        self.name = name
        self.release = threading.Event()
        self.holding = threading.Event()
        self.address = "{}:{}".format(*self.server_address)


class SlowOrQuick(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: OneAtATime

    def do_GET(self) -> None:
        if self.path.startswith("/slow"):
            self.server.holding.set()
            self.server.release.wait(HOLD_SECONDS)
        body = self.server.name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Served-By", self.server.name)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def servers():
    pair = [OneAtATime("A"), OneAtATime("B")]
    for server in pair:
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield pair
    for server in pair:
        server.release.set()
        server.shutdown()
        server.server_close()


def get(proxy: Nginx, path: str) -> str:
    """The name of the server that answered. A token, so that the proxy's cache
    leaves the request alone (per-user requests bypass it)."""
    connection = http.client.HTTPConnection(LOOPBACK, proxy.port, timeout=30)
    connection.request("GET", path, headers={"Authorization": "Bearer load-test"})
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 200, response.status
    return response.getheader("X-Served-By")


def test_a_quick_request_goes_to_the_idle_app_server_not_behind_a_slow_one(servers):
    a, b = servers
    with Nginx.load_balancer([a.address, b.address]) as proxy, ThreadPoolExecutor(2) as pool:
        # Whichever server nginx picks first for the slow request is the busy one.
        slow = pool.submit(get, proxy, "/slow")
        busy = a if a.holding.wait(2) else b
        assert busy.holding.wait(2), "neither server got the slow request"
        idle = b if busy is a else a
        # One after another, while the busy server still holds the slow request.
        answered_by = [get(proxy, f"/api/v1/submissions?n={n}") for n in range(QUICK_REQUESTS)]
        still_busy = not slow.done()
        busy.release.set()
        assert slow.result() == busy.name
    assert still_busy
    assert answered_by == [idle.name] * QUICK_REQUESTS, (
        f"quick requests went to {answered_by}; {busy.name} was busy with a slow one"
    )
