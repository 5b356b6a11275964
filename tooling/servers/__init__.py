"""Real servers for the tests (and more), each started as a subprocess on free 127.0.0.1
ports.

    with PostgresCluster() as postgres:        # PostgreSQL + PostGIS
        psycopg.connect(postgres.url)
    with RedisServer() as redis:               # Redis, shared counters  # ASSIGNMENT 3
        redis.url                              # redis://127.0.0.1:PORT/0  # ASSIGNMENT 3
    with MotoServer() as aws:                  # AWS's APIs (moto)  # ASSIGNMENT 2
        aws.endpoint_url                       # AWS_ENDPOINT_URL  # ASSIGNMENT 2
    with SeaweedS3() as s3:                    # S3 API (SeaweedFS)  # ASSIGNMENT 2
        s3.create_bucket("photos", public_read=True)  # ASSIGNMENT 2
        with Nginx.cdn(s3.endpoint_url, "photos") as cdn:  # ASSIGNMENT 2
            http_get(cdn.url + "/some/key.jpg")  # ASSIGNMENT 2

`start()` returns only once the server does its job, or raises ServerStartError with
the end of its log. `stop()` and `start()` again bring the same server back on the
same port and data (outage tests); `close()`, or leaving the `with` block, stops it
and deletes its temporary directory. tests/server_fixtures.py shares them per session.
"""

from tooling.servers.gunicorn import Gunicorn, prepare_app, run_python
from tooling.servers.moto import MotoServer  # ASSIGNMENT 2
from tooling.servers.net import (
    free_port,
    free_ports,
    http_get,
    tcp_port_open,
    wait_for_http,
    wait_for_tcp,
)
from tooling.servers.nginx import Nginx, cdn_config, load_balancer_config  # ASSIGNMENT 2
from tooling.servers.postgres import PostgresCluster
from tooling.servers.process import (
    ServerStartError,
    child_pids,
    cpu_seconds,
    peak_rss_bytes,
    pss_bytes,
    reset_peak_rss,
    rss_bytes,
)
from tooling.servers.redis import RedisServer  # ASSIGNMENT 3
from tooling.servers.seaweed import SeaweedS3  # ASSIGNMENT 2

__all__ = [
    "Gunicorn",
    "MotoServer",  # ASSIGNMENT 2
    "Nginx",  # ASSIGNMENT 2
    "PostgresCluster",
    "RedisServer",  # ASSIGNMENT 3
    "SeaweedS3",  # ASSIGNMENT 2
    "ServerStartError",
    "cdn_config",  # ASSIGNMENT 2
    "child_pids",
    "cpu_seconds",
    "free_port",
    "free_ports",
    "http_get",
    "load_balancer_config",  # ASSIGNMENT 2
    "peak_rss_bytes",
    "prepare_app",
    "pss_bytes",
    "reset_peak_rss",
    "rss_bytes",
    "run_python",
    "tcp_port_open",
    "wait_for_http",
    "wait_for_tcp",
]
