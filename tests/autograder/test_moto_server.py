"""tooling/servers/moto.py: the moto server starts on loopback, answers AWS calls, forgets
everything on reset, and leaves no process behind."""

import os

import boto3
import pytest

from tooling.servers.moto import MotoServer
from tooling.servers.net import LOOPBACK, tcp_port_open

pytestmark = pytest.mark.database_independent


def test_boto3_reaches_the_server_through_aws_endpoint_url(aws_environment):
    assert os.environ["AWS_ENDPOINT_URL"].startswith(f"http://{LOOPBACK}:")
    identity = boto3.client("sts").get_caller_identity()
    assert identity["Account"].isdigit()


def test_reset_forgets_every_resource(aws_environment):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="forgotten")
    aws_environment.reset()
    assert s3.list_buckets()["Buckets"] == []


def test_close_stops_the_whole_process_group():
    server = MotoServer().start()
    pid, port = server.process.pid, server.port
    assert tcp_port_open(LOOPBACK, port)
    server.close()
    assert not tcp_port_open(LOOPBACK, port)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
