"""Throttling (issue #12, finding 4): log-in lock-out, and limits on sign-up, new API
tokens, classify and upload, with the limits the settings ship with.

Each test runs once per place the counters may be kept (COUNTER_STORES): in files, the
embedded default, and in each shared server the deployments may use instead. The last
tests serve the app with two gunicorn workers and show that both count in the one
shared counter.
"""

import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from io import StringIO
from urllib.parse import urlencode

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import RequestFactory, override_settings

from accounts.models import ApiToken
from birdai.env import RATE_PATTERN, env_rate
from throttling.file_cache import CountingFileCache
from throttling.limits import (
    CLASSIFY,
    NEW_TOKEN,
    SIGNUP,
    UPLOAD,  # ASSIGNMENT 2
    Limit,
    count,
)
from tooling.servers import Gunicorn
from tooling.servers.gunicorn import PROJECT_ROOT
from tooling.servers.net import http_get, http_request

pytestmark = pytest.mark.django_db

PASSWORD = "sparrow-in-the-rain-42"
ATTACKER = "203.0.113.7"  # documentation addresses (RFC 5737), never contacted
VICTIM = "198.51.100.20"

COUNTER_STORES = ["files"]
# BEGIN ASSIGNMENT 3
COUNTER_STORES.append("redis")
# END ASSIGNMENT 3


def rate_count(setting: str) -> int:
    """How many requests the setting allows in one window: 120 for "120/m"."""
    return int(getattr(django_settings, setting).split("/")[0])


def window(setting: str) -> int:
    """The window's length in seconds: 60 for "120/m", 600 for "100/10m"."""
    rate = RATE_PATTERN.fullmatch(getattr(django_settings, setting))
    return int(rate["multiplier"] or 1) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[rate["unit"]]


@pytest.fixture(params=COUNTER_STORES)
def counters(request, tmp_path):
    """The shared counters in files, as the embedded default keeps them, or in Redis."""
    cache = {
        "BACKEND": "throttling.file_cache.CountingFileCache",
        "LOCATION": str(tmp_path / "throttle"),
    }
    # BEGIN ASSIGNMENT 3
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        server.flush()
        cache = redis_counters(server.url)
    # END ASSIGNMENT 3
    with override_settings(CACHES={**django_settings.CACHES, "throttle": cache}):
        AxesProxyHandler.get_implementation(force=True)  # it keeps the cache it was given
        yield request.param
    AxesProxyHandler.get_implementation(force=True)


# BEGIN ASSIGNMENT 3
def redis_counters(url: str) -> dict:
    """The throttle cache in the Redis server at url, as settings.py makes it."""
    # Imported here: in a course's starter the function arrives with assignment 3.
    from birdai.settings import redis_throttle_cache

    return redis_throttle_cache(url)


# END ASSIGNMENT 3
def user(name: str):
    return get_user_model().objects.create_user(name, password=PASSWORD)


def bearer(user) -> dict[str, str]:
    _, token = ApiToken.issue(user, "load test")
    return {"Authorization": f"Bearer {token}"}


def wait_for_a_fresh_window(limit: Limit, *, who=None, address="127.0.0.1", seconds=20):
    """Counts start again when a window ends; a test that sends N requests must not
    straddle that moment, or the limit seems to let more through. Waits, if need be,
    until at least `seconds` of the current window are left."""
    request = RequestFactory().post("/", REMOTE_ADDR=address)
    request.user = who or AnonymousUser()
    usage = count(limit, request, increment=False)
    if usage.retry_after < seconds:
        time.sleep(usage.retry_after + 1)


def assert_retry_after(response, *, at_most: int) -> int:
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= at_most
    return seconds


def assert_rate_limited_json(response, *, at_most: int) -> None:
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["error"] == "rate_limited"
    assert "try again in" in body["message"]
    assert_retry_after(response, at_most=at_most)


def assert_rate_limited_page(response, *, at_most: int) -> None:
    assert response.status_code == 429, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    seconds = assert_retry_after(response, at_most=at_most)
    page = response.content.decode()
    assert "Too many requests" in page
    assert "try again in" in page
    if seconds < 120:
        assert f"{seconds} second" in page


# --- log-in ---------------------------------------------------------------------------


def log_in(client, username: str, password: str, address: str = ATTACKER):
    return client.post(
        "/account/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_it_reproduces_the_issue_39_wrong_passwords_then_the_right_one(client, counters):
    user("alice")
    statuses = [log_in(client, "alice", f"guess-{n}").status_code for n in range(39)]
    right = log_in(client, "alice", PASSWORD)

    limit = django_settings.LOGIN_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1)  # "wrong user name or password"
    assert statuses[limit - 1 :] == [429] * (39 - limit + 1)  # locked out
    assert right.status_code == 429  # the right password, too late: still refused
    lockout_seconds = django_settings.LOGIN_LOCKOUT_MINUTES * 60
    assert assert_retry_after(right, at_most=lockout_seconds) == lockout_seconds
    assert "failed log-ins for this user name" in right.content.decode()
    assert client.get("/account/").status_code == 302  # not logged in


def test_a_lock_out_is_for_the_name_from_that_address_only(client, counters):
    user("alice")
    user("bob")
    for n in range(django_settings.LOGIN_FAILURE_LIMIT):
        log_in(client, "alice", f"guess-{n}", address=ATTACKER)
    assert log_in(client, "alice", PASSWORD, address=ATTACKER).status_code == 429

    # The attacker cannot lock alice out of her own account from her address...
    assert log_in(client, "alice", PASSWORD, address=VICTIM).status_code == 302
    client.logout()
    # ...and the attacker's address still serves other people (a shared campus NAT).
    assert log_in(client, "bob", PASSWORD, address=ATTACKER).status_code == 302
    client.logout()


def test_staff_can_lift_a_lock_out(client, counters):
    user("alice")
    for n in range(django_settings.LOGIN_FAILURE_LIMIT):
        log_in(client, "alice", f"guess-{n}")
    assert log_in(client, "alice", PASSWORD).status_code == 429
    call_command("axes_reset_ip_username", ATTACKER, "alice", stdout=StringIO())
    assert log_in(client, "alice", PASSWORD).status_code == 302


def test_the_admin_log_in_locks_out_too(client, counters):
    get_user_model().objects.create_superuser("root", password=PASSWORD)
    for n in range(django_settings.LOGIN_FAILURE_LIMIT):
        client.post(
            "/admin/login/?next=/admin/",
            {"username": "root", "password": f"guess-{n}"},
            REMOTE_ADDR=ATTACKER,
        )
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": PASSWORD},
        REMOTE_ADDR=ATTACKER,
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_log_in_attempts_from_one_address_are_limited_across_names(client, counters, settings):
    # Password spraying: one try for each of many names never trips a lock-out.
    settings.LOGIN_RATE_PER_ADDRESS = "3/h"
    statuses = [log_in(client, f"user{n}", "Password1").status_code for n in range(4)]
    assert statuses == [200, 200, 200, 429]


# --- sign-up --------------------------------------------------------------------------


def sign_up(client, username: str, password2: str = PASSWORD, address: str = "127.0.0.1"):
    data = {"username": username, "password1": PASSWORD, "password2": password2}
    return client.post("/account/signup/", data, REMOTE_ADDR=address)


def test_a_sign_up_flood_from_one_address_gets_429(client, counters):
    wait_for_a_fresh_window(SIGNUP, seconds=60)
    allowed = rate_count("SIGNUP_RATE_PER_ADDRESS")
    # Cheap posts (mismatched passwords: nothing hashed) use up the address's sign-ups.
    for n in range(allowed):
        assert sign_up(client, f"flood{n}", password2="other").status_code == 200
    response = sign_up(client, "one-more")
    assert_rate_limited_page(response, at_most=window("SIGNUP_RATE_PER_ADDRESS"))
    assert not get_user_model().objects.filter(username="one-more").exists()
    # Another address may still sign up.
    assert sign_up(client, "elsewhere", address=VICTIM).status_code == 302


def test_signing_up_does_not_say_cheaply_whether_a_name_exists(client, counters):
    user("alice")
    # Django's form answered "A user with that username already exists." even to a post
    # with no password at all: a free test of any name.
    taken = client.post("/account/signup/", {"username": "alice"}).content.decode()
    free = client.post("/account/signup/", {"username": "nobody-has-this"}).content.decode()
    assert "already exists" not in taken
    assert "cannot be used" not in taken
    assert strip_names(taken) == strip_names(free)


def strip_names(page: str) -> str:
    return re.sub(r'value="[^"]*"', "", page).replace("nobody-has-this", "alice")


def test_a_complete_sign_up_with_a_taken_name_gets_one_generic_message(client, counters):
    user("alice")
    for name in ("alice", "ALICE"):
        page = sign_up(client, name).content.decode()
        assert "This user name cannot be used. Please choose another one." in page
        assert "already exists" not in page
    assert get_user_model().objects.filter(username__iexact="alice").count() == 1


# --- new API tokens -------------------------------------------------------------------


def test_new_api_tokens_are_limited_per_account(client, counters):
    alice, bob = user("alice"), user("bob")
    wait_for_a_fresh_window(NEW_TOKEN, who=alice, seconds=60)
    client.force_login(alice)
    allowed = rate_count("TOKEN_RATE_PER_ACCOUNT")
    for n in range(allowed):
        assert client.post("/account/", {"name": f"token {n}"}).status_code == 200
    response = client.post("/account/", {"name": "one too many"})
    assert_rate_limited_page(response, at_most=window("TOKEN_RATE_PER_ACCOUNT"))
    assert ApiToken.objects.filter(user=alice).count() == allowed
    assert client.get("/account/").status_code == 200  # looking at the page is free

    client.force_login(bob)  # the same address, another account: its own count
    assert client.post("/account/", {"name": "bob's"}).status_code == 200


# --- classify and upload: per account, two accounts from one address apart -----------


@pytest.mark.parametrize(
    ("limit", "setting", "api_path", "page_path"),
    [
        (CLASSIFY, "CLASSIFY_RATE_PER_ACCOUNT", "/api/v1/classify", "/"),
        # BEGIN ASSIGNMENT 2
        (UPLOAD, "UPLOAD_RATE_PER_ACCOUNT", "/api/v1/submissions", "/history/upload/"),
        # END ASSIGNMENT 2
    ],
    ids=[
        "classify",
        "upload",  # ASSIGNMENT 2
    ],
)
def test_work_is_limited_per_account_not_per_address(
    client, counters, limit, setting, api_path, page_path
):
    alice, bob = user("alice"), user("bob")
    as_alice, as_bob = bearer(alice), bearer(bob)
    wait_for_a_fresh_window(limit, who=alice)
    # Requests without a photo are counted too (a 400 costs the server as well) and
    # cost no classification, which keeps the test quick with the real limit.
    for _ in range(rate_count(setting)):
        assert client.post(api_path, headers=as_alice).status_code == 400
    assert_rate_limited_json(client.post(api_path, headers=as_alice), at_most=window(setting))

    # bob, from the same address (an autograder's), is counted apart.
    assert client.post(api_path, headers=as_bob).status_code == 400
    # alice's browser session counts in the same account as her token.
    client.force_login(alice)
    assert_rate_limited_page(client.post(page_path), at_most=window(setting))


def test_anonymous_classify_is_limited_per_address(client, counters, settings):
    settings.CLASSIFY_RATE_PER_ADDRESS = "2/h"  # every limit is a setting
    assert [client.post("/api/v1/classify").status_code for _ in range(2)] == [400, 400]
    assert_rate_limited_json(client.post("/api/v1/classify"), at_most=3600)
    assert_rate_limited_page(client.post("/"), at_most=3600)
    assert client.post("/api/v1/classify", REMOTE_ADDR=VICTIM).status_code == 400
    assert client.get("/").status_code == 200  # the form itself is never limited


def test_the_schema_documents_429(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "429" in paths["/api/v1/classify"]["post"]["responses"]
    assert "429" in paths["/api/v1/submissions"]["post"]["responses"]  # ASSIGNMENT 2


# --- settings -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["120/m", "300/h", "100/10m", "5/s", "1/d"])
def test_a_rate_setting_reads_requests_per_period(monkeypatch, value):
    monkeypatch.setenv("SOME_RATE", value)
    assert env_rate("SOME_RATE", "1/m") == value


@pytest.mark.parametrize("value", ["120", "ten/m", "0/m", "5/0m", "5/w", "5/m extra"])
def test_a_bad_rate_setting_stops_the_start(monkeypatch, value):
    monkeypatch.setenv("SOME_RATE", value)
    with pytest.raises(ImproperlyConfigured, match="SOME_RATE"):
        env_rate("SOME_RATE", "1/m")


# --- the counters themselves ---------------------------------------------------------


COUNTING_PROCESS = """
import sys
from throttling.file_cache import CountingFileCache

cache = CountingFileCache(sys.argv[1], {})
for _ in range(int(sys.argv[2])):
    if not cache.add("counter", 1, 600):
        cache.incr("counter")
"""


def test_file_counters_lose_no_count_between_processes(tmp_path):
    # As gunicorn's workers do: separate processes counting in one key at once.
    # Django's own FileBasedCache reads, then writes, and loses counts here.
    location = str(tmp_path / "throttle")
    command = [sys.executable, "-c", COUNTING_PROCESS, location, "200"]
    processes = [subprocess.Popen(command, cwd=PROJECT_ROOT) for _ in range(4)]
    assert [process.wait(timeout=120) for process in processes] == [0] * 4
    assert CountingFileCache(location, {}).get("counter") == 800


def test_file_counters_keep_their_expiry_when_counted(tmp_path):
    cache = CountingFileCache(str(tmp_path), {"TIMEOUT": 5})
    cache.add("counter", 1, timeout=3600)
    cache.incr("counter")
    # Django's incr() saves with the default timeout (5 s here): the hour would be lost.
    assert cache._read("counter", None)[0] > time.time() + 3500
    assert cache.get("counter") == 2


# --- two gunicorn workers share one counter -------------------------------------------


class BrowserSession:
    """Just enough of a browser for a form: the CSRF cookie and the form's token."""

    def __init__(self, base_url: str, path: str) -> None:
        self.url = base_url + path
        form = http_get(self.url)
        cookie = SimpleCookie(form.headers["Set-Cookie"])
        self.csrf_cookie = cookie["csrftoken"].value
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)
        self.csrf_token = match.group(1).decode()

    def post(self, fields: dict[str, str]):
        body = urlencode({**fields, "csrfmiddlewaretoken": self.csrf_token}).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={self.csrf_cookie}",
        }
        return http_request("POST", self.url, body=body, headers=headers)


@pytest.fixture(params=COUNTER_STORES)
def two_workers(request, onnx_model, tmp_path):
    """The app on gunicorn with two workers, counting in files or in Redis; its access
    log names the worker (pid) that answered each request."""
    env = {
        "BIRDAI_VAR_DIR": str(tmp_path),
        "CLASSIFIER_ONNX_PATH": str(onnx_model),
        "GUNICORN_CMD_ARGS": "--access-logformat '%(p)s %(m)s %(U)s %(s)s'",
        # A limit set through the environment, as a deployment sets it.
        "CLASSIFY_RATE_PER_ADDRESS": "3/h",
    }
    # BEGIN ASSIGNMENT 3
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        server.flush()
        env["REDIS_URL"] = server.url
    # END ASSIGNMENT 3
    with Gunicorn(env, workers=2) as app:
        yield app


def test_two_workers_count_sign_ups_in_one_shared_counter(two_workers):
    wait_for_a_fresh_window(SIGNUP, seconds=120)
    allowed = rate_count("SIGNUP_RATE_PER_ADDRESS")
    form = BrowserSession(two_workers.url, "/account/signup/")
    attempt = {"username": "flood", "password1": PASSWORD, "password2": "other"}
    # Several at once, so that both workers answer; each must see the other's counts.
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: form.post(attempt).status, range(allowed + 20)))

    assert answers.count(200) == allowed, answers
    assert answers.count(429) == 20
    workers = {
        line.split()[0]
        for line in two_workers.log_path.read_text().splitlines()
        if re.fullmatch(r"<\d+> POST /account/signup/ (200|429)", line)
    }
    assert workers == {f"<{pid}>" for pid in two_workers.pids()[1:]}, "one worker answered all"
    refused = form.post({**attempt, "password2": PASSWORD})
    assert refused.status == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600


def test_a_limit_set_in_the_environment_holds_over_http(two_workers):
    answers = [http_request("POST", two_workers.url + "/api/v1/classify") for _ in range(4)]
    assert [answer.status for answer in answers] == [400, 400, 400, 429]
    body = json.loads(answers[-1].body)
    assert body["error"] == "rate_limited"
    assert answers[-1].headers["Content-Type"] == "application/json; charset=utf-8"
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 3600
