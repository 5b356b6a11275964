"""Predictions kept in a Redis server (REDIS_URL: the N-tier deployments), as plain
JSON that every app server reads; Redis down is a miss, logged, never an error."""

import hashlib
import json
import logging

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from birdai.settings import redis_shared_cache
from classifier import prediction_cache
from classifier.engine import Prediction
from tests.classifier.test_prediction_cache import classify
from tooling.photos import bird_jpeg
from tooling.servers.net import free_port

pytestmark = pytest.mark.django_db


def test_the_prediction_is_kept_as_plain_json_in_redis(client, redis_server, model_runs):
    redis_server.flush()
    shared = redis_shared_cache(redis_server.url)
    with override_settings(CACHES={**caches.settings, "default": shared}):
        photo = bird_jpeg()
        answer = classify(client, photo)
        key = prediction_cache.cache_key(hashlib.sha256(photo).hexdigest())
        stored = redis.Redis.from_url(redis_server.url).get(caches["default"].make_key(key))
        caches["default"].close()
    kept = json.loads(stored)
    assert Prediction.from_dict(kept).as_dict() == kept
    assert {name: kept[name] for name in answer} == answer
    assert model_runs == [1]


def test_redis_down_is_a_miss_and_logged_never_an_error(client, caplog, model_runs):
    unreachable = redis_shared_cache(f"redis://127.0.0.1:{free_port()}/0")
    with (
        override_settings(CACHES={**caches.settings, "default": unreachable}),
        caplog.at_level(logging.ERROR, logger="django_redis"),
    ):
        first = classify(client, bird_jpeg())
        again = classify(client, bird_jpeg())
    assert again == first
    assert model_runs == [1, 1]
    assert "Exception ignored" in caplog.text
