"""Throttling when the counters live in Redis (REDIS_URL) and Redis is down: requests
and log-ins go on, unthrottled and logged, never a 500 (throttling/redis_cache.py).
test_limits.py runs every limit with its counters in Redis too."""

import json

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.test import override_settings

from birdai.settings import redis_throttle_cache
from tests.throttling.test_limits import PASSWORD, log_in, user
from tooling.servers import Gunicorn
from tooling.servers.net import free_port, http_request

pytestmark = pytest.mark.django_db


def test_requests_go_on_when_redis_is_down(onnx_model, tmp_path):
    # Fail open: an unreachable Redis must not turn every request into an error.
    env = {
        "BIRDAI_VAR_DIR": str(tmp_path),
        "CLASSIFIER_ONNX_PATH": str(onnx_model),
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
    }
    with Gunicorn(env, workers=1) as app:
        answer = http_request("POST", app.url + "/api/v1/classify")
        log = app.log_path.read_text()
    assert answer.status == 400, answer.body
    assert json.loads(answer.body)["error"] == "missing_image"
    assert "Connection refused" in log or "Error" in log  # and it says so


def test_log_in_goes_on_when_redis_is_down(client, settings):
    user("alice")
    unreachable = redis_throttle_cache(f"redis://127.0.0.1:{free_port()}/0")
    with override_settings(CACHES={**settings.CACHES, "throttle": unreachable}):
        AxesProxyHandler.get_implementation(force=True)
        wrong = log_in(client, "alice", "guess")
        right = log_in(client, "alice", PASSWORD)
    assert wrong.status_code == 200  # "wrong user name or password", not a 500
    assert right.status_code == 302
