"""The test servers themselves work: each test fails if its server does not do its job."""

import secrets  # ASSIGNMENT 2
import sys
import threading  # ASSIGNMENT 3
from collections import Counter  # ASSIGNMENT 3
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # ASSIGNMENT 3

import boto3  # ASSIGNMENT 2
import botocore.exceptions  # ASSIGNMENT 2
import psycopg
import pytest

from tooling.servers import (
    Gunicorn,
    Nginx,  # ASSIGNMENT 3
    PostgresCluster,
    SeaweedS3,  # ASSIGNMENT 2
    http_get,
    rss_bytes,
)
from tooling.servers.process import ServerProcess, ServerStartError

# --- PostGIS ------------------------------------------------------------------------


def test_it_runs_postgis(postgres_cluster):
    with psycopg.connect(postgres_cluster.url) as connection:
        (version,) = connection.execute("SELECT PostGIS_Version()").fetchone()
    assert version.startswith("3.")


def test_it_measures_distances_on_the_globe(postgres_cluster):
    paris, london = "POINT(2.3522 48.8566)", "POINT(-0.1276 51.5072)"
    with psycopg.connect(postgres_cluster.url) as connection:
        (metres,) = connection.execute(
            "SELECT ST_Distance(ST_GeogFromText(%s), ST_GeogFromText(%s))", (paris, london)
        ).fetchone()
    assert 340_000 < metres < 350_000


def test_it_gives_new_databases_postgis(postgres_cluster):
    # Django's test database is created from template1, by a user who may not be able
    # to create extensions; PostGIS must already be there.
    with postgres_cluster.connect("postgres") as connection:
        connection.execute("CREATE DATABASE test_template_check")
    try:
        with postgres_cluster.connect("test_template_check") as connection:
            connection.execute("SELECT ST_MakePoint(1, 2)")
    finally:
        with postgres_cluster.connect("postgres") as connection:
            connection.execute("DROP DATABASE test_template_check")


def test_it_keeps_data_when_postgres_restarts_or_crashes():
    with PostgresCluster() as cluster:
        with cluster.connect() as connection:
            connection.execute("CREATE TABLE sightings (bird text)")
            connection.execute("INSERT INTO sightings VALUES ('robin')")

        cluster.stop()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(cluster.url, connect_timeout=1)
        cluster.start()
        cluster.kill()
        cluster.start()

        with cluster.connect() as connection:
            assert connection.execute("SELECT bird FROM sightings").fetchall() == [("robin",)]


# BEGIN ASSIGNMENT 2
# --- S3 -----------------------------------------------------------------------------


def test_it_stores_lists_and_deletes_objects(s3_server):
    s3 = s3_server.client()
    bucket = s3_server.create_bucket(f"harness-{secrets.token_hex(4)}")

    s3.put_object(Bucket=bucket, Key="photos/robin.jpg", Body=b"robin bytes")
    listing = s3.list_objects_v2(Bucket=bucket)["Contents"]
    stored = s3.get_object(Bucket=bucket, Key="photos/robin.jpg")["Body"].read()
    s3.delete_object(Bucket=bucket, Key="photos/robin.jpg")

    assert [item["Key"] for item in listing] == ["photos/robin.jpg"]
    assert stored == b"robin bytes"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_it_rejects_a_wrong_secret_key(s3_server):
    impostor = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint_url,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key="wrong-" + s3_server.secret_key,
        region_name="us-east-1",
    )

    with pytest.raises(botocore.exceptions.ClientError, match="SignatureDoesNotMatch"):
        impostor.list_buckets()


def test_it_keeps_private_buckets_private(s3_server):
    bucket = s3_server.create_bucket(f"private-{secrets.token_hex(4)}")
    s3_server.client().put_object(Bucket=bucket, Key="secret.jpg", Body=b"x")

    assert http_get(f"{s3_server.endpoint_url}/{bucket}/secret.jpg").status == 403


def test_it_keeps_objects_when_s3_restarts():
    with SeaweedS3() as server:
        server.create_bucket("photos")
        server.client().put_object(Bucket="photos", Key="robin.jpg", Body=b"robin bytes")

        server.stop()
        with pytest.raises(botocore.exceptions.EndpointConnectionError):
            server.client().list_buckets()
        server.start()

        stored = server.client().get_object(Bucket="photos", Key="robin.jpg")["Body"].read()
    assert stored == b"robin bytes"


# --- nginx as a CDN in front of S3 --------------------------------------------------


def test_it_serves_public_objects_from_the_cdn_cache(s3_server, public_bucket, cdn_server):
    photo = secrets.token_bytes(50_000)
    s3_server.client().put_object(Bucket=public_bucket, Key="cdn/robin.jpg", Body=photo)

    first = http_get(f"{cdn_server.url}/cdn/robin.jpg")
    second = http_get(f"{cdn_server.url}/cdn/robin.jpg")

    assert (first.status, first.headers["X-Cache-Status"]) == (200, "MISS")
    assert (second.status, second.headers["X-Cache-Status"]) == (200, "HIT")
    assert first.body == second.body == photo


def test_it_serves_cached_objects_while_s3_is_gone(s3_server, public_bucket, cdn_server):
    # What a CDN is for: the edge keeps answering from its cache during an outage.
    s3_server.client().put_object(Bucket=public_bucket, Key="cdn/wren.jpg", Body=b"wren")
    assert http_get(f"{cdn_server.url}/cdn/wren.jpg").headers["X-Cache-Status"] == "MISS"
    s3_server.stop()
    try:
        cached = http_get(f"{cdn_server.url}/cdn/wren.jpg")
        missing = http_get(f"{cdn_server.url}/cdn/never-cached.jpg")
    finally:
        s3_server.start()

    assert (cached.status, cached.headers["X-Cache-Status"], cached.body) == (200, "HIT", b"wren")
    assert missing.status == 502


# END ASSIGNMENT 2
# BEGIN ASSIGNMENT 3
# --- nginx as a load balancer -------------------------------------------------------


class NamedHandler(BaseHTTPRequestHandler):
    """Answers with the name of its server; /cacheable lets nginx keep the answer."""

    def do_GET(self) -> None:
        body = self.server.name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/cacheable":
            self.send_header("Cache-Control", "public, max-age=60")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output quiet


@pytest.fixture
def app_servers():
    """Two tiny HTTP servers standing in for gunicorn; yields their host:port addresses."""
    servers = []
    for name in ("app-a", "app-b"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), NamedHandler)
        server.name = name
        # A short poll interval makes shutdown() quick.
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
    yield {server.name: server for server in servers}
    for server in servers:
        server.shutdown()
        server.server_close()


def address(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address
    return f"{host}:{port}"


def test_it_spreads_requests_over_all_app_servers(app_servers):
    with Nginx.load_balancer([address(server) for server in app_servers.values()]) as nginx:
        answers = Counter(http_get(nginx.url + "/").body.decode() for _ in range(10))

    assert set(answers) == {"app-a", "app-b"}


def test_it_routes_around_a_stopped_app_server(app_servers):
    with Nginx.load_balancer([address(server) for server in app_servers.values()]) as nginx:
        app_servers["app-b"].shutdown()
        app_servers["app-b"].server_close()
        responses = [http_get(nginx.url + "/") for _ in range(6)]

    assert {(response.status, response.body) for response in responses} == {(200, b"app-a")}


def test_it_caches_only_what_the_app_allows(app_servers):
    with Nginx.load_balancer([address(server) for server in app_servers.values()]) as nginx:
        plain = [http_get(nginx.url + "/").headers["X-Cache-Status"] for _ in range(2)]
        cacheable = [http_get(nginx.url + "/cacheable").headers["X-Cache-Status"]]
        nginx.wait_until_cached()
        cacheable.append(http_get(nginx.url + "/cacheable").headers["X-Cache-Status"])

    assert plain == ["MISS", "MISS"]
    assert cacheable == ["MISS", "HIT"]


# END ASSIGNMENT 3
# --- gunicorn -----------------------------------------------------------------------

TINY_WSGI_APP = """
import os

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [os.environ["GREETING"].encode()]
"""


def test_it_runs_gunicorn_workers_with_the_given_environment(tmp_path):
    (tmp_path / "tiny_app.py").write_text(TINY_WSGI_APP)
    server = Gunicorn(
        {"GREETING": "tweet"}, app="tiny_app:application", config=None, cwd=tmp_path, workers=2
    )

    with server:
        body = http_get(server.url + "/healthz").body
        pids = server.pids()
        memory = [rss_bytes(pid) for pid in pids]

    assert body == b"tweet"
    assert len(pids) == 3  # the master and two workers
    assert all(size > 1_000_000 for size in memory)


# --- a server that cannot start -----------------------------------------------------


class FailingServer(ServerProcess):
    """Raises one error, then logs more lines than a log's tail shows, and exits."""

    name = "failing"

    def command(self) -> list[str]:
        script = "import sys; print('ValueError: the first cause'); print('\\n' * 40); sys.exit(3)"
        return [sys.executable, "-c", script]

    def is_ready(self) -> bool:
        return False


def test_a_server_that_cannot_start_names_its_first_exception():
    with pytest.raises(ServerStartError) as failure, FailingServer() as server:
        server.start()
    assert "exited with code 3. First exception: ValueError: the first cause" in str(failure.value)
