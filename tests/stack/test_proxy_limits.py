"""The reverse proxy's per-address limits and its own errors (issue #12, findings 3, 5
and 6): the real configuration (docker/nginx/proxy.conf.template) in front of a tiny
app server that answers every request with 200, so what is tested is nginx alone.

A course's grader load-tests from one address with many accounts: the default limits
must let such a load through (fair limits per account are the app's), and only a flood
from one address meets a 429.
"""

import http.client
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tooling.servers import Nginx
from tooling.servers.net import LOOPBACK, free_port

# nginx in front of a tiny stand-in upstream, no database: the PostGIS run leaves it out.
# Limits per second, judged under a load: run alone (scripts/test).
pytestmark = [pytest.mark.database_independent, pytest.mark.measures_load]

API_ERROR_KEYS = {"error", "message"}


class AnswersEverything(BaseHTTPRequestHandler):
    """Reads the body, answers 200 "ok": an app server that never limits anything."""

    protocol_version = "HTTP/1.1"

    def answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = do_DELETE = answer

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output quiet


class AppServer(ThreadingHTTPServer):
    daemon_threads = True
    # A grader's 50 connections at once (socketserver's default queue holds 5).
    request_queue_size = 128


@pytest.fixture(scope="module")
def app_server():
    server = AppServer((LOOPBACK, 0), AnswersEverything)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    host, port = server.server_address
    yield f"{host}:{port}"
    server.shutdown()
    server.server_close()


def request(
    proxy: Nginx, method: str, path: str, body: bytes = b"", timeout: float = 10
) -> http.client.HTTPResponse:
    """One request on its own connection; the response is read in full."""
    connection = http.client.HTTPConnection(LOOPBACK, proxy.port, timeout=timeout)
    headers = {"Content-Type": "application/octet-stream"} if body else {}
    connection.request(method, path, body=body or None, headers=headers)
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def assert_api_error(response: http.client.HTTPResponse, status: int, code: str) -> None:
    assert response.status == status, response.body
    assert response.getheader("Content-Type") == "application/json"
    document = json.loads(response.body)
    assert set(document) == API_ERROR_KEYS
    assert document["error"] == code
    assert document["message"].endswith(".")


def assert_html_error(response: http.client.HTTPResponse, status: int) -> None:
    assert response.status == status, response.body
    assert response.getheader("Content-Type") == "text/html"
    assert b"<html>" in response.body


# --- limit_req: one zone per kind of expensive request ------------------------------

# path -> (method, the zone's settings prefix, an API path?)
LIMITED = {
    "/account/login/": "PROXY_LOGIN",
    "/admin/login/": "PROXY_LOGIN",
    "/api/v1/token": "PROXY_LOGIN",
    "/account/signup/": "PROXY_SIGNUP",
    "/api/v1/signup": "PROXY_SIGNUP",
    "/history/upload/": "PROXY_UPLOAD",
    "/api/v1/submissions": "PROXY_UPLOAD",
    "/": "PROXY_CLASSIFY",
    "/api/v1/classify": "PROXY_CLASSIFY",
}


@pytest.mark.parametrize("path", LIMITED)
def test_posts_past_the_burst_get_a_429_with_retry_after(app_server, path):
    zone = LIMITED[path]
    settings = {f"{zone}_RATE": "1r/m", f"{zone}_BURST": "2"}
    with Nginx.load_balancer([app_server], **settings) as proxy:
        statuses = [request(proxy, "POST", path, b"x").status for _ in range(3)]
        rejected = request(proxy, "POST", path, b"x")
        # GETs (the page with the form, a list) are not counted.
        page = request(proxy, "GET", path)

    assert statuses == [200, 200, 200]  # the first, then the burst of two
    if path.startswith("/api/"):
        assert_api_error(rejected, 429, "rate_limited")
    else:
        assert_html_error(rejected, 429)
    assert rejected.getheader("Retry-After") == "1"
    assert page.status == 200
    assert page.getheader("Retry-After") is None


def test_each_zone_counts_only_its_own_requests(app_server):
    settings = {"PROXY_LOGIN_RATE": "1r/m", "PROXY_LOGIN_BURST": "1"}
    with Nginx.load_balancer([app_server], **settings) as proxy:
        logins = [request(proxy, "POST", "/account/login/", b"x").status for _ in range(2)]
        admin_login = request(proxy, "POST", "/admin/login/", b"x").status
        others = {request(proxy, "POST", path, b"x").status for path in ("/account/signup/", "/")}

    assert (logins, admin_login) == ([200, 200], 429)  # one zone for both log-in forms
    assert others == {200}


def test_the_limits_hold_for_a_path_written_differently(app_server):
    settings = {"PROXY_LOGIN_RATE": "1r/m", "PROXY_LOGIN_BURST": "1"}
    with Nginx.load_balancer([app_server], **settings) as proxy:
        for _ in range(2):
            request(proxy, "POST", "/account/login/", b"x")
        rewritten = request(proxy, "POST", "//account/./login/", b"x")
    assert rewritten.status == 429


# --- limit_conn: requests in progress per address -----------------------------------


def start_slow_upload(proxy: Nginx, path: str) -> socket.socket:
    """A request whose body never finishes: it stays in progress in nginx."""
    sock = socket.create_connection((LOOPBACK, proxy.port), timeout=5)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nx".encode()
    )
    return sock


def test_one_address_gets_only_so_many_requests_in_progress(app_server):
    with Nginx.load_balancer([app_server], PROXY_CONNECTIONS_PER_ADDRESS="3") as proxy:
        slow = [start_slow_upload(proxy, "/api/v1/other") for _ in range(3)]
        time.sleep(0.5)
        refused = request(proxy, "GET", "/api/v1/me")
        refused_page = request(proxy, "GET", "/history/")
        for sock in slow:
            sock.close()
        time.sleep(0.5)
        again = request(proxy, "GET", "/api/v1/me")

    assert_api_error(refused, 429, "rate_limited")
    assert_html_error(refused_page, 429)
    assert again.status == 200


# --- nginx's own errors: JSON on /api/, HTML elsewhere ------------------------------


def test_a_body_over_the_limit_is_a_413_json_on_the_api_and_html_on_pages(app_server):
    with Nginx.load_balancer([app_server], PROXY_MAX_BODY_SIZE="1k") as proxy:
        api = request(proxy, "POST", "/api/v1/classify", b"x" * 4096)
        page = request(proxy, "POST", "/history/upload/", b"x" * 4096)
        small = request(proxy, "POST", "/api/v1/classify", b"x" * 512)

    assert_api_error(api, 413, "too_large")
    assert "1k" in json.loads(api.body)["message"]
    assert_html_error(page, 413)
    assert small.status == 200


def test_an_unreachable_app_is_a_503_json_on_the_api_and_html_on_pages():
    nothing_listens = f"{LOOPBACK}:{free_port()}"
    with Nginx.load_balancer([nothing_listens]) as proxy:
        api = request(proxy, "GET", "/api/v1/me")
        page = request(proxy, "GET", "/")

    assert_api_error(api, 503, "upstream_unavailable")
    assert page.status == 502
    assert page.getheader("Content-Type") == "text/html"


def test_the_apps_own_answers_pass_unchanged(app_server):
    with Nginx.load_balancer([app_server]) as proxy:
        response = request(proxy, "GET", "/api/v1/me")
    assert (response.status, response.body) == (200, b"ok")


# --- No internal addresses unless asked for (finding 5) -----------------------------


def test_the_app_servers_address_is_sent_only_when_debugging(app_server):
    with Nginx.load_balancer([app_server]) as proxy:
        plain = request(proxy, "GET", "/")
    with Nginx.load_balancer([app_server], PROXY_DEBUG_UPSTREAM="true") as proxy:
        debugging = request(proxy, "GET", "/")

    assert plain.getheader("X-Upstream") is None
    assert debugging.getheader("X-Upstream") == app_server


# --- A course's grader: one address, many accounts, the default limits --------------

GRADER_ACCOUNTS = 50
GRADER_ROUNDS = 5


def grader_account(proxy: Nginx) -> list[int]:
    """One account's session: sign up, log in, then a round a second of a
    classification, an upload and a look at the history."""
    statuses = [
        request(proxy, "POST", "/account/signup/", b"form").status,
        request(proxy, "POST", "/account/login/", b"form").status,
    ]
    for _ in range(GRADER_ROUNDS):
        started = time.monotonic()
        statuses.append(request(proxy, "POST", "/api/v1/classify", b"photo").status)
        statuses.append(request(proxy, "POST", "/api/v1/submissions", b"photo").status)
        statuses.append(request(proxy, "GET", "/api/v1/submissions").status)
        time.sleep(max(0.0, 1 - (time.monotonic() - started)))
    return statuses


def test_a_graders_load_from_one_address_passes_the_default_limits(app_server):
    """50 accounts at once: 50 sign-ups and log-ins, then about 50 classifications and
    50 uploads a second for 5 s, all from 127.0.0.1."""
    with Nginx.load_balancer([app_server]) as proxy:
        with ThreadPoolExecutor(GRADER_ACCOUNTS) as pool:
            sessions = list(pool.map(lambda _: grader_account(proxy), range(GRADER_ACCOUNTS)))

    statuses = [status for session in sessions for status in session]
    assert len(statuses) == GRADER_ACCOUNTS * (2 + 3 * GRADER_ROUNDS)
    assert set(statuses) == {200}
