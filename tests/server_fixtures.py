"""Session fixtures: each server starts at most once per test run, when a test first asks.

Loaded as a plugin (`-p tests.server_fixtures` in pyproject.toml), so every test file
can ask for them without importing anything.

These servers are the tests' own, separate from the database the Django tests use
(tests/database_plugin.py), so a test may stop and restart them freely. A test that
stops one must start it again before it ends.
"""

import pytest

from tooling.servers.moto import CLEARED_VARIABLES, MotoServer  # ASSIGNMENT 2
from tooling.servers.nginx import CDN_SOURCE_ADDRESS, Nginx  # ASSIGNMENT 2
from tooling.servers.postgres import PostgresCluster
from tooling.servers.redis import RedisServer  # ASSIGNMENT 3
from tooling.servers.seaweed import SeaweedS3  # ASSIGNMENT 2


# BEGIN ASSIGNMENT 2
@pytest.fixture(scope="session")
def s3_server():
    with SeaweedS3() as server:
        yield server


@pytest.fixture(scope="session")
def public_bucket(s3_server: SeaweedS3) -> str:
    """A bucket anyone may read objects from, as the app's photo bucket behind a CDN."""
    return s3_server.create_bucket("public-photos", public_read=True)


@pytest.fixture(scope="session")
def cdn_server(s3_server: SeaweedS3, public_bucket: str):
    """nginx caching public_bucket: GET {cdn_server.url}/<key>."""
    with Nginx.cdn(s3_server.endpoint_url, public_bucket) as server:
        yield server


@pytest.fixture(scope="session")
def oac_bucket(s3_server: SeaweedS3) -> str:
    """A private bucket that only oac_cdn_server may read without signing, as a bucket
    on AWS lets only its CloudFront distribution read (Origin Access Control)."""
    return s3_server.create_bucket("cdn-only-photos", readable_from=CDN_SOURCE_ADDRESS)


@pytest.fixture(scope="session")
def oac_cdn_server(s3_server: SeaweedS3, oac_bucket: str):
    """nginx caching oac_bucket, connecting to S3 from CDN_SOURCE_ADDRESS."""
    with Nginx.cdn(s3_server.endpoint_url, oac_bucket, source_address=CDN_SOURCE_ADDRESS) as server:
        yield server


# END ASSIGNMENT 2
# BEGIN ASSIGNMENT 3
# --- Redis (throttling counters shared by app servers) ---------------------------------


@pytest.fixture(scope="session")
def redis_server():
    """A Redis server for the session; tests that count in it call redis_server.flush()."""
    with RedisServer() as server:
        yield server


# END ASSIGNMENT 3
# BEGIN ASSIGNMENT 2
# --- AWS's APIs (moto), for the autograder's AWS checks --------------------------------


@pytest.fixture(scope="session")
def moto_server():
    with MotoServer() as server:
        yield server


@pytest.fixture
def aws_environment(moto_server: MotoServer, monkeypatch) -> MotoServer:
    """An empty moto account that every boto3 client of this test talks to: the server is
    reset, and AWS_ENDPOINT_URL points at it, so no test can reach real AWS by mistake."""
    moto_server.reset()
    point_boto3_at(moto_server, monkeypatch)
    return moto_server


def point_boto3_at(server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every boto3 client made until `monkeypatch` undoes it talks to `server`."""
    for name in CLEARED_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in server.client_environment().items():
        monkeypatch.setenv(name, value)


# END ASSIGNMENT 2
@pytest.fixture(scope="session")
def postgres_cluster():
    with PostgresCluster() as cluster:
        yield cluster
