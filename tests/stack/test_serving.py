"""bird.ai served as in production: gunicorn (2 workers) behind nginx, over real HTTP
on loopback."""

import json
import os
import time

import pytest

from tooling.photos import decompression_bomb_png, skimage_photo
from tooling.servers import Gunicorn, Nginx
from tooling.servers.net import http_get, http_post_file


def server_environment(onnx_model, var_dir) -> dict[str, str]:
    env = {
        "BIRDAI_VAR_DIR": str(var_dir),
        "CLASSIFIER_ONNX_PATH": str(onnx_model),
        "GUNICORN_WORKERS": "2",
    }
    if os.environ.get("DATABASE_URL"):  # the PostGIS run: the same cluster
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    return env


@pytest.fixture(scope="module")
def app_server(onnx_model, tmp_path_factory):
    with Gunicorn(
        server_environment(onnx_model, tmp_path_factory.mktemp("var")), workers=2
    ) as server:
        yield server


@pytest.fixture(scope="module")
def load_balancer(app_server):
    with Nginx.load_balancer([app_server.address]) as server:
        yield server


def classify(base_url: str, data: bytes, filename: str):
    return http_post_file(
        base_url + "/api/v1/classify", field_name="image", filename=filename, data=data
    )


def log_once_it_shows(server: Gunicorn, lines: list[str], timeout: float = 30) -> str:
    """The server's log, once every line has appeared (a worker may still be warming)."""
    deadline = time.monotonic() + timeout
    while True:
        log = server.log_path.read_text()
        if all(line in log for line in lines) or time.monotonic() > deadline:
            return log
        time.sleep(0.1)


def test_each_worker_warms_the_model_before_its_first_request(app_server):
    workers = app_server.pids()[1:]
    expected = [f"classifier warmed in worker {pid}" for pid in workers]
    log = log_once_it_shows(app_server, expected)
    for line in expected:
        assert line in log
    assert "classifier warmed in the master process" not in log  # no preload by default


def test_it_can_warm_the_model_in_the_master_before_forking(onnx_model, tmp_path):
    env = {**server_environment(onnx_model, tmp_path), "GUNICORN_PRELOAD": "true"}
    with Gunicorn(env, workers=2) as server:
        response = classify(server.url, skimage_photo("coffee.png"), "coffee.png")
        workers = server.pids()[1:]
        log = log_once_it_shows(server, [f"classifier warmed in worker {pid}" for pid in workers])
    assert response.status == 200, response.body
    assert json.loads(response.body)["top_class"]["label"] == "espresso"
    master_warmed = log.index("classifier warmed in the master process")
    assert master_warmed < log.index("Booting worker")
    for pid in workers:  # each opens its own session
        assert f"classifier warmed in worker {pid}" in log


def test_it_is_ready_once_started(app_server):
    response = http_get(app_server.url + "/readyz")
    assert response.status == 200, response.body
    assert json.loads(response.body)["status"] == "ok"


def test_it_classifies_over_http(app_server):
    response = classify(app_server.url, skimage_photo("chelsea.png"), "cat.png")
    assert response.status == 200, response.body
    assert json.loads(response.body)["is_bird"] is False


def test_it_answers_413_to_a_real_oversized_upload(app_server):
    # 21 MiB over the wire: the server must read it all and answer, not reset the socket.
    response = classify(app_server.url, os.urandom(21 * 1024 * 1024), "huge.jpg")
    assert response.status == 413
    assert json.loads(response.body)["error"] == "too_large"


def test_it_keeps_serving_after_bad_uploads(app_server):
    bad_uploads = [
        (b"", "empty.jpg"),
        (b"GIF89a not really", "a.gif"),
        (decompression_bomb_png(), "bomb.png"),
        (skimage_photo("chelsea.png")[:5000], "truncated.png"),
    ]
    for data, filename in bad_uploads * 3:
        status = classify(app_server.url, data, filename).status
        assert 400 <= status < 500, (filename, status)
    assert classify(app_server.url, skimage_photo("coffee.png"), "coffee.png").status == 200
    assert len(app_server.pids()) == 3  # the master and both workers are still there


def test_it_serves_through_the_nginx_load_balancer(load_balancer):
    response = classify(load_balancer.url, skimage_photo("chelsea.png"), "cat.png")
    assert response.status == 200, response.body
    assert "X-Upstream" not in response.headers  # only with PROXY_DEBUG_UPSTREAM=true
    page = http_get(load_balancer.url + "/")
    assert page.status == 200
    assert b"dropzone" in page.body
