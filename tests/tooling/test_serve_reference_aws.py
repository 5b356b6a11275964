"""tooling/serve_reference_aws.py, which scripts/autograder-image-test grades the grader's
image with: the slip it writes is one the grader accepts, its key reaches the reference
account in moto's server, and SIGTERM stops moto's server with it."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from autograder.slip import read_slip
from tooling.servers.moto import CLEARED_VARIABLES, REGION
from tooling.servers.net import tcp_port_open

pytestmark = pytest.mark.database_independent

URL = "http://127.0.0.1:8080"
REPOSITORY = Path(__file__).resolve().parents[2]


def test_the_slip_reaches_the_reference_account_until_sigterm(tmp_path, monkeypatch):
    for name in CLEARED_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    endpoint_file = tmp_path / "moto.endpoint"
    (tmp_path / "submission").mkdir()
    server = subprocess.Popen(
        [sys.executable, "-m", "tooling.serve_reference_aws", "--url", URL,
         "--slip", str(tmp_path / "submission" / "deployment.json"),
         "--endpoint-file", str(endpoint_file)],
        cwd=REPOSITORY,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not endpoint_file.exists() or not endpoint_file.read_text().strip():
            assert server.poll() is None, "serve_reference_aws ended before it was ready"
            assert time.monotonic() < deadline, "serve_reference_aws not ready in 60 s"
            time.sleep(0.1)
        endpoint = endpoint_file.read_text().strip()

        slip, _ = read_slip(tmp_path / "submission", allow_private_urls=True)
        assert (slip.url, slip.region) == (URL, REGION)
        session = boto3.Session(
            aws_access_key_id=slip.access_key_id,
            aws_secret_access_key=slip.secret_access_key,
            region_name=slip.region,
        )
        identity = session.client("sts", endpoint_url=endpoint).get_caller_identity()
        assert identity["Arn"].endswith(":user/birdai-grader")
        buckets = session.client("s3", endpoint_url=endpoint).list_buckets()["Buckets"]
        assert [bucket["Name"] for bucket in buckets] == ["birdai-photos-20261203"]

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
        port = int(endpoint.rsplit(":", 1)[1])
        assert not tcp_port_open("127.0.0.1", port), "moto's server outlived SIGTERM"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
