"""`manage.py create_bucket`, which the compose stack's migrate service runs, against a
real SeaweedFS: the bucket is made private, readable unsigned from the CDN's address
only, and running it again changes nothing."""

import http.client
import json
import secrets
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from history.management.commands.create_bucket import location
from tests.storages import s3_storages
from tooling.servers.net import LOOPBACK
from tooling.servers.nginx import CDN_SOURCE_ADDRESS


@pytest.fixture
def new_bucket(settings, s3_server) -> str:
    """The settings name a bucket that does not exist yet."""
    bucket = f"created-{secrets.token_hex(4)}"
    settings.STORAGES = s3_storages(s3_server, bucket)
    return bucket


def create_bucket(**options) -> str:
    out = StringIO()
    call_command("create_bucket", stdout=out, **options)
    return out.getvalue()


def unsigned_get_status(s3_server, path: str, *, from_address: str) -> int:
    """The status of a GET with no signature, sent from `from_address`."""
    connection = http.client.HTTPConnection(
        LOOPBACK, s3_server.ports["s3"], timeout=10, source_address=(from_address, 0)
    )
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_bucket_is_created_readable_from_the_cdns_address_only(s3_server, new_bucket):
    output = create_bucket(readable_from=CDN_SOURCE_ADDRESS)
    name = default_storage.save("photos/created.jpg", ContentFile(b"a photo"))
    path = f"/{new_bucket}/{name}"

    assert f"bucket {new_bucket} created" in output
    # The server gives the policy back in its own spelling ("s3:GetObject" for a list
    # of one), so its meaning is checked, by the requests it lets through below.
    policy = json.loads(s3_server.client().get_bucket_policy(Bucket=new_bucket)["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Condition"] == {"IpAddress": {"aws:SourceIp": f"{CDN_SOURCE_ADDRESS}/32"}}
    assert unsigned_get_status(s3_server, path, from_address=CDN_SOURCE_ADDRESS) == 200
    assert unsigned_get_status(s3_server, path, from_address=LOOPBACK) == 403
    assert unsigned_get_status(s3_server, f"/{new_bucket}/", from_address=CDN_SOURCE_ADDRESS) == 403


def test_running_it_again_keeps_the_bucket_and_its_photos(s3_server, new_bucket):
    create_bucket(readable_from=CDN_SOURCE_ADDRESS)
    name = default_storage.save("photos/kept.jpg", ContentFile(b"a photo"))

    output = create_bucket(readable_from=CDN_SOURCE_ADDRESS)

    assert f"bucket {new_bucket} exists" in output
    assert default_storage.open(name).read() == b"a photo"


def test_without_readable_from_the_bucket_stays_private(s3_server, new_bucket):
    create_bucket()
    name = default_storage.save("photos/private.jpg", ContentFile(b"a photo"))

    path = f"/{new_bucket}/{name}"
    assert unsigned_get_status(s3_server, path, from_address=CDN_SOURCE_ADDRESS) == 403


def test_local_storage_is_refused_with_a_clear_error(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    with pytest.raises(CommandError, match="set AWS_STORAGE_BUCKET_NAME"):
        create_bucket()


def test_outside_us_east_1_the_region_is_named():
    # The tests' S3 server runs in us-east-1, so this is checked without it.
    assert location("eu-central-1") == {
        "CreateBucketConfiguration": {"LocationConstraint": "eu-central-1"}
    }
    assert location("us-east-1") == location(None) == {}


def test_an_s3_refusal_is_a_clear_command_error(settings, s3_server):
    storages = s3_storages(s3_server, f"created-{secrets.token_hex(4)}")
    storages["default"]["OPTIONS"]["secret_key"] = "not-the-servers-secret"
    settings.STORAGES = storages
    with pytest.raises(CommandError, match="S3 refused or failed for bucket created-"):
        create_bucket()
