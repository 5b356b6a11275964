"""The reverse proxy's cache and retries (issue #14, item 3): the real configuration
(docker/nginx/proxy.conf.template) in front of stand-in app servers whose answers the
test chooses, so what is tested is nginx alone. tests/stack/test_stack_script.py checks
the same rules in front of the real app.

The finding these reproduce: eight identical GET /api/v1/submissions from different
users queued behind each other in nginx's 0.5 s lock steps, though none was ever cached.
Rather than time the requests (a busy machine makes any bound flaky), the stand-in app
holds each request until all of them have arrived, or 3 s have passed: requests that
reach it one at a time cannot all be there at once.
"""

import http.client
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tooling.servers import Nginx
from tooling.servers.net import LOOPBACK

# nginx in front of stand-ins, no database: the PostGIS run leaves it out.
pytestmark = pytest.mark.database_independent

AT_ONCE = 8
# How long the stand-in waits for all AT_ONCE requests: it only bounds a failing test.
GATHER_SECONDS = 3.0


class StandInApp(ThreadingHTTPServer):
    """Counts requests per path, and how many were in progress at once.

    Paths (the real app's, so the proxy's locations apply):
      /api/v1/submissions  each user's own list: waits for the others, no Cache-Control
                           (what the app sends for a signed-in request)
      /account/login/      a page never to be cached (no-store): waits for the others
      /api/v1/careless     a per-user answer the app wrongly marks public
      anything else        a public page, cacheable for a minute
    Every answer's body names who asked (Authorization or the sessionid cookie).
    """

    daemon_threads = True
    request_queue_size = 64

    def __init__(self) -> None:
        super().__init__((LOOPBACK, 0), StandInHandler)
        self.lock = threading.Lock()
        self.everyone_here = threading.Condition(self.lock)
        self.in_progress = 0
        self.most_at_once = 0
        self.requests: dict[str, int] = {}
        self.address = "{}:{}".format(*self.server_address)

    def reset(self) -> None:
        with self.lock:
            self.in_progress = self.most_at_once = 0
            self.requests.clear()

    def gather(self) -> None:
        """Waits until AT_ONCE requests are in progress together (or GATHER_SECONDS)."""
        with self.everyone_here:
            self.in_progress += 1
            self.most_at_once = max(self.most_at_once, self.in_progress)
            self.everyone_here.notify_all()
            self.everyone_here.wait_for(lambda: self.most_at_once >= AT_ONCE, GATHER_SECONDS)
            self.in_progress -= 1


class StandInHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StandInApp

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        with self.server.lock:
            self.server.requests[path] = self.server.requests.get(path, 0) + 1
        who = self.headers.get("Authorization") or self.headers.get("Cookie") or "anonymous"
        if path in ("/api/v1/submissions", "/account/login/"):
            self.server.gather()
        if path == "/api/v1/submissions":
            cache_control = None
        elif path == "/account/login/":
            cache_control = "no-store"
        else:  # a public page, and the careless per-user answer
            cache_control = "public, max-age=60"
        body = f"for {who}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if cache_control:
            self.send_header("Cache-Control", cache_control)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output quiet


class DiesMidRequest(BaseHTTPRequestHandler):
    """An app server killed while working: reads the request, then closes the
    connection without answering (nginx: "upstream prematurely closed")."""

    server: "CountingServer"

    def handle_one_request(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if not self.parse_request():
            return
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.count += 1
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


class AnswersOk(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "CountingServer"

    def answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.count += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = answer

    def log_message(self, format: str, *args: object) -> None:
        pass


class CountingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__((LOOPBACK, 0), handler)
        self.lock = threading.Lock()
        self.count = 0
        self.address = "{}:{}".format(*self.server_address)


def serving(server: ThreadingHTTPServer):
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def app():
    yield from serving(StandInApp())


@pytest.fixture
def proxy(app):
    app.reset()
    with Nginx.load_balancer([app.address]) as server:
        yield server


def get(proxy: Nginx, path: str, headers: dict[str, str] | None = None, method: str = "GET"):
    connection = http.client.HTTPConnection(LOOPBACK, proxy.port, timeout=30)
    body = b"photo" if method == "POST" else None
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def all_at_once(proxy: Nginx, path: str, headers: list[dict[str, str]]) -> list:
    with ThreadPoolExecutor(len(headers)) as pool:
        return list(pool.map(lambda each: get(proxy, path, each), headers))


# --- Per-user requests bypass the cache and its lock ---------------------------------

CREDENTIALS = {
    "token": lambda user: {"Authorization": f"Token token-of-user-{user}"},
    "session": lambda user: {"Cookie": f"sessionid=session-of-user-{user}"},
}


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_signed_in_users_do_not_queue_behind_each_other(app, proxy, credential):
    users = [CREDENTIALS[credential](user) for user in range(AT_ONCE)]
    responses = all_at_once(proxy, "/api/v1/submissions", users)

    assert app.most_at_once == AT_ONCE  # all reached the app together: nobody queued
    assert {response.status for response in responses} == {200}
    assert {response.getheader("X-Cache-Status") for response in responses} == {"BYPASS"}
    for user, response in zip(users, responses, strict=True):
        assert next(iter(user.values())) in response.body.decode()


def test_anonymous_requests_for_a_page_not_to_be_cached_do_not_queue(app, proxy):
    """The lock would make them wait too: nginx learns that the page is not to be
    cached only from the first answer."""
    responses = all_at_once(proxy, "/account/login/", [{}] * AT_ONCE)

    assert app.most_at_once == AT_ONCE
    assert {response.status for response in responses} == {200}


def test_a_per_user_answer_is_never_stored_even_if_the_app_says_it_may_be(app, proxy):
    alice = get(proxy, "/api/v1/careless", {"Authorization": "Token alice"})
    bob = get(proxy, "/api/v1/careless", {"Cookie": "sessionid=bob"})
    anonymous = get(proxy, "/api/v1/careless")

    assert alice.body == b"for Token alice"
    assert bob.body == b"for sessionid=bob"
    assert anonymous.body == b"for anonymous"
    assert anonymous.getheader("X-Cache-Status") == "MISS"  # nothing stored for it to hit
    assert app.requests["/api/v1/careless"] == 3


def test_another_cookie_alone_does_not_bypass_the_cache(app, proxy):
    """Only the session cookie makes a request per-user (csrftoken, a language...)."""
    first = get(proxy, "/static/site.css", {"Cookie": "csrftoken=abc"})
    proxy.wait_until_cached()
    second = get(proxy, "/static/site.css", {"Cookie": "csrftoken=def"})

    assert [first.getheader("X-Cache-Status"), second.getheader("X-Cache-Status")] == [
        "MISS",
        "HIT",
    ]
    assert app.requests["/static/site.css"] == 1


def test_a_public_page_is_served_from_the_cache(app, proxy):
    statuses = [get(proxy, "/").getheader("X-Cache-Status")]
    proxy.wait_until_cached()
    statuses += [get(proxy, "/").getheader("X-Cache-Status") for _ in range(2)]

    assert statuses == ["MISS", "HIT", "HIT"]
    assert app.requests["/"] == 1  # the app did the work once


def test_a_public_page_asked_for_by_a_signed_in_user_comes_from_the_app(app, proxy):
    """Their copy may differ (their name in the header), so it is never the cached one."""
    get(proxy, "/history/")
    signed_in = get(proxy, "/history/", {"Cookie": "sessionid=carol"})

    assert signed_in.getheader("X-Cache-Status") == "BYPASS"
    assert signed_in.body == b"for sessionid=carol"
    assert app.requests["/history/"] == 2


# --- Retries: to the next app server, where that is safe -----------------------------


@pytest.fixture
def dying_then_healthy():
    """nginx whose first choice always dies mid-request; the second (a backup, so the
    order is fixed) answers 200."""
    dying = CountingServer(DiesMidRequest)
    healthy = CountingServer(AnswersOk)
    for server in (dying, healthy):
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        with Nginx.load_balancer([dying.address, f"{healthy.address} backup"]) as proxy:
            yield proxy, dying, healthy
    finally:
        for server in (dying, healthy):
            server.shutdown()
            server.server_close()


@pytest.mark.parametrize("path", ["/api/v1/classify", "/api/v1/submissions"])
def test_a_post_that_is_safe_to_repeat_goes_to_the_next_app_server(dying_then_healthy, path):
    proxy, dying, healthy = dying_then_healthy
    response = get(proxy, path, method="POST")

    assert response.status == 200
    assert (dying.count, healthy.count) == (1, 1)


@pytest.mark.parametrize("path", ["/history/upload/", "/account/login/", "/api/v1/tokens"])
def test_any_other_post_is_not_sent_twice(dying_then_healthy, path):
    proxy, dying, healthy = dying_then_healthy
    response = get(proxy, path, method="POST")

    assert response.status in (502, 503)  # the API's 503, or nginx's page
    assert (dying.count, healthy.count) == (1, 0)


def test_a_get_goes_to_the_next_app_server(dying_then_healthy):
    proxy, dying, healthy = dying_then_healthy
    response = get(proxy, "/api/v1/submissions", {"Authorization": "Token alice"})

    assert response.status == 200
    assert (dying.count, healthy.count) == (1, 1)
