"""The shared cache and the sessions (birdai/settings.py, "Shared cache and sessions"):
Redis when REDIS_URL names one, sessions then cached_db; and Redis down is a miss, never
an error. tests/stack/test_stateless_app_servers.py shows a log-in across two servers."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client, override_settings

from birdai.settings import redis_shared_cache
from tests.birdai.test_settings_from_environment import load_settings
from tooling.servers.net import free_port

pytestmark = pytest.mark.django_db

PASSWORD = "a-robin-on-the-fence-3"
CACHED_DB = "django.contrib.sessions.backends.cached_db"


def test_redis_url_makes_the_default_cache_redis_and_sessions_cached_db():
    expression = "s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'], s.SESSION_ENGINE"
    result = load_settings({"REDIS_URL": "redis://cache.internal:6379/0"}, expression)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django_redis.cache.RedisCache",
        "redis://cache.internal:6379/0",
        CACHED_DB,
    ]


def test_without_redis_nothing_needs_a_server():
    result = load_settings({}, "s.CACHES['default']['BACKEND'], s.SESSION_ENGINE")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.contrib.sessions.backends.db",
    ]


def test_signing_in_works_while_redis_is_down(caplog):
    get_user_model().objects.create_user("robin", password=PASSWORD)
    unreachable = redis_shared_cache(f"redis://127.0.0.1:{free_port()}/0")
    with override_settings(
        CACHES={**caches.settings, "default": unreachable}, SESSION_ENGINE=CACHED_DB
    ):
        client = Client()
        signed_in = client.post("/account/login/", {"username": "robin", "password": PASSWORD})
        account = client.get("/account/")
    assert signed_in.status_code == 302
    assert account.status_code == 200
    assert b"robin" in account.content
    assert "Exception ignored" in caplog.text  # and the outage is logged
