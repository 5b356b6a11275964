"""bench/curl.py, the benchmark's load generator for photos, against the tests' CDN
(nginx caching a SeaweedFS bucket): it must count every transfer and refuse any answer
that is not the photo, or a CDN answer that is not the expected cache status. A bench
row built on error pages or cache misses would measure the wrong thing."""

import uuid

import pytest

from bench.curl import CurlError, curl_gets
from tooling.servers.net import free_port


@pytest.fixture
def cached_object(s3_server, public_bucket, cdn_server) -> tuple[str, bytes]:
    """An object in the public bucket: its CDN link and its bytes."""
    key = f"bench-curl/{uuid.uuid4().hex}.bin"
    data = uuid.uuid4().bytes * 1000
    s3_server.client().put_object(Bucket=public_bucket, Key=key, Body=data)
    return f"{cdn_server.url}/{key}", data


def test_every_transfer_is_counted_timed_and_checked(cached_object):
    url, data = cached_object
    first = curl_gets(url, count=1, expect_size=len(data), expect_cache_status="MISS")
    run = curl_gets(url, count=30, in_flight=4, expect_size=len(data), expect_cache_status="HIT")

    assert first.transfers[0].cache_status == "MISS"
    assert len(run.transfers) == 30
    assert {(t.status, t.size, t.cache_status) for t in run.transfers} == {(200, len(data), "HIT")}
    assert all(0 < t.ms < 10_000 for t in run.transfers)
    assert run.seconds > 0
    assert run.requests_per_second > 0
    # Rate x mean time: catches a unit slip (seconds against milliseconds).
    assert 0 < run.mean_in_flight <= 4
    # curl's own CPU time is measured: the bench prints it beside the server's.
    assert run.client_cpu_seconds > 0


def test_an_answer_of_another_size_is_refused(cached_object):
    url, data = cached_object
    with pytest.raises(CurlError, match=f"expected 200 with {len(data) + 1}"):
        curl_gets(url, count=3, expect_size=len(data) + 1)


def test_an_error_status_is_refused(cdn_server):
    with pytest.raises(CurlError, match=": 404 with"):
        curl_gets(f"{cdn_server.url}/bench-curl/no-such-object", count=2, expect_size=0)


def test_a_failed_transfer_is_refused_with_curls_reason():
    with pytest.raises(CurlError, match="connect"):
        curl_gets(f"http://127.0.0.1:{free_port()}/photo.jpg", count=2, expect_size=0)


def test_a_cache_miss_is_refused_where_a_hit_is_expected(s3_server, public_bucket, cdn_server):
    key = f"bench-curl/{uuid.uuid4().hex}.bin"
    s3_server.client().put_object(Bucket=public_bucket, Key=key, Body=b"x" * 100)
    with pytest.raises(CurlError, match="X-Cache-Status 'MISS', expected HIT"):
        curl_gets(f"{cdn_server.url}/{key}", count=1, expect_size=100, expect_cache_status="HIT")
