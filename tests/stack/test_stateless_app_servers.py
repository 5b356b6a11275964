"""Two app servers (gunicorn) sharing one database file and one Redis, as behind a load
balancer (issue #14): neither keeps anything the other needs.

- a log-in made through one works on the other, and survives a Redis restart (sessions
  are cached_db: written to the database, read from Redis);
- a photo classified on one is not classified again on the other (the prediction kept
  in Redis by the photo's SHA-256);
- the same submission sent to both, as a retry would, is one submission with one set of
  files;
- every answer says which app server gave it (X-Served-By).
"""

import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
import redis

from tooling.photos import reencode, skimage_photo
from tooling.servers import Gunicorn, RedisServer, run_python
from tooling.servers.net import http_get, http_request, multipart_file

# The servers keep their own SpatiaLite file: the PostGIS run leaves this out.
pytestmark = pytest.mark.database_independent

PASSWORD = "a-wren-in-the-hedge-17"


@pytest.fixture(scope="module")
def shared_redis():
    """This module's own Redis: a test restarts it, which others must not see."""
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="module")
def app_servers(onnx_model, tmp_path_factory, shared_redis):
    """Servers "app-a" and "app-b": one worker each, one database file, one media
    folder, one Redis."""
    var_dir = tmp_path_factory.mktemp("two-app-servers")
    env = {
        "BIRDAI_VAR_DIR": str(var_dir),
        "DATABASE_URL": f"spatialite:///{var_dir / 'db.sqlite3'}",
        "CLASSIFIER_ONNX_PATH": str(onnx_model),
        "REDIS_URL": shared_redis.url,
    }
    run_python(["manage.py", "migrate", "--noinput", "--verbosity=0"], env)
    make_users = (
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create_user('robin', password={PASSWORD!r}); "
        "get_user_model().objects.create_user('wren')"
    )
    run_python(["manage.py", "shell", "-c", make_users], env)
    token = run_python(["manage.py", "create_api_token", "wren"], env).strip()
    with (
        Gunicorn({**env, "APP_SERVER_NAME": "app-a"}, workers=1) as app_a,
        Gunicorn({**env, "APP_SERVER_NAME": "app-b"}, workers=1) as app_b,
    ):
        app_a.token = app_b.token = token
        app_a.media_root = app_b.media_root = var_dir / "media"
        yield app_a, app_b


def cookies_set_by(response) -> dict[str, str]:
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def log_in(base_url: str) -> dict[str, str]:
    """Signs robin in as a browser does: the form, its CSRF cookie and token, the POST.
    Returns the cookies the browser then holds."""
    form = http_get(base_url + "/account/login/")
    cookies = cookies_set_by(form)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body).group(1)
    fields = {"username": "robin", "password": PASSWORD, "csrfmiddlewaretoken": token.decode()}
    answer = http_request(
        "POST",
        base_url + "/account/login/",
        body=urlencode(fields).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookies['csrftoken']}",
        },
    )
    assert answer.status == 302, answer.body[:500]
    assert answer.headers["X-Served-By"] == "app-a"
    return {**cookies, **cookies_set_by(answer)}


def cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}


def test_a_log_in_on_one_app_server_works_on_another(app_servers, shared_redis):
    app_a, app_b = app_servers
    assert http_get(app_b.url + "/account/").status == 302  # not signed in: to the log-in
    cookies = log_in(app_a.url)
    assert "sessionid" in cookies

    account = http_get(app_b.url + "/account/", headers=cookie_header(cookies))
    assert account.status == 200, account.body[:300]
    assert b"robin" in account.body
    assert account.headers["X-Served-By"] == "app-b"
    assert account.headers["Cache-Control"] == "private, no-store"
    sessions_in_redis = redis.Redis.from_url(shared_redis.url).keys("*sessions.cached_db*")
    assert len(sessions_in_redis) == 1

    # Redis keeps nothing on disk here: a restart forgets every session it held. The
    # database still has it, so the user stays signed in on every app server.
    shared_redis.stop()
    shared_redis.start()
    assert shared_redis.command_reply(b"DBSIZE") == b":0\r\n"
    for server in app_servers:
        again = http_get(server.url + "/account/", headers=cookie_header(cookies))
        assert again.status == 200, (server.url, again.status)
        assert b"robin" in again.body


def classify(server: Gunicorn, photo: bytes) -> dict:
    body, headers = multipart_file("image", "photo.jpg", photo)
    answer = http_request("POST", server.url + "/api/v1/classify", body=body, headers=headers)
    assert answer.status == 200, answer.body[:300]
    found = json.loads(answer.body)
    del found["elapsed_ms"]  # this request's time
    return found


def test_a_photo_classified_on_one_app_server_is_not_classified_on_another(
    app_servers, shared_redis
):
    app_a, app_b = app_servers
    photo = reencode(skimage_photo("coffee.png"), "JPEG", quality=71)  # this test's own
    sha256 = hashlib.sha256(photo).hexdigest()
    store = redis.Redis.from_url(shared_redis.url)

    on_a = classify(app_a, photo)
    [key] = store.keys(f"*prediction:*:{sha256}")
    kept = json.loads(store.get(key))  # the prediction as plain JSON
    assert {name: kept[name] for name in on_a} == on_a
    assert classify(app_b, photo) == on_a

    # That B's answer came from Redis and not from its own model: change what Redis
    # holds, and B answers exactly that.
    kept["top_class"] = {"label": "kept by app-a", "probability": 0.5}
    store.set(key, json.dumps(kept), keepttl=True)
    assert classify(app_b, photo)["top_class"]["label"] == "kept by app-a"
    store.delete(key)


def test_a_submission_sent_to_both_app_servers_is_one_submission(app_servers):
    """What a retry by the load balancer does: the same POST to another app server, perhaps
    while the first is still working on it."""
    photo = reencode(skimage_photo("chelsea.png"), "JPEG", quality=83)
    body, headers = multipart_file("image", "cat.jpg", photo)
    headers["Authorization"] = f"Bearer {app_servers[0].token}"

    def submit(server: Gunicorn):
        url = server.url + "/api/v1/submissions"
        return http_request("POST", url, body=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(submit, app_servers))

    assert sorted(answer.status for answer in answers) == [200, 201], [a.body for a in answers]
    ids = {json.loads(answer.body)["id"] for answer in answers}
    assert len(ids) == 1
    listed = http_get(app_servers[1].url + "/api/v1/submissions", headers=headers)
    assert json.loads(listed.body)["count"] == 1
    stored = [path for path in app_servers[0].media_root.rglob("*") if path.is_file()]
    assert len(stored) == 2, stored  # the photo and its thumbnail, once


def test_every_answer_names_its_app_server_and_who_may_keep_it(app_servers):
    for server, name in zip(app_servers, ["app-a", "app-b"], strict=True):
        for path in ["/", "/healthz", "/static/birdai/site.css", "/no-such-page/"]:
            assert http_get(server.url + path).headers["X-Served-By"] == name, path
        home = http_get(server.url + "/")
        assert home.headers["Cache-Control"] == "public, max-age=60"
        assert home.headers.get("Set-Cookie") is None
