"""The throttling counters' cache class (throttling/redis_cache.py) on its own, with
nothing listening at its Redis address: a count it cannot make is 0 and a touch it
cannot make is skipped and logged, so django-axes never sees an error. The cache is
built here, not from the settings, so that a starter's missing settings (REDIS_URL's
CACHES entries) do not hide these two methods' own TODOs."""

import logging

import pytest

from throttling.redis_cache import CountingRedisCache
from tooling.servers.net import free_port

pytestmark = pytest.mark.database_independent


@pytest.fixture
def unreachable_counters() -> CountingRedisCache:
    return CountingRedisCache(
        f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        {
            "KEY_PREFIX": "counting-test",
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        },
    )


def test_a_count_redis_could_not_make_is_zero(unreachable_counters):
    assert unreachable_counters.incr("failures") == 0


# birdai/settings.py sets DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS: what is skipped is logged.
def test_a_touch_redis_could_not_make_is_skipped_and_logged(unreachable_counters, caplog):
    with caplog.at_level(logging.ERROR):
        assert unreachable_counters.touch("failures", 60) is False
    assert "Exception ignored" in caplog.text
