"""Uploaded photos on S3, read through a CDN: real SeaweedFS and nginx servers, no mocks.

Each storage here is built from shared.storage.s3_storage_options, the function
birdai/settings.py builds STORAGES["default"] with, so the options tested are the ones
that run. nginx stands in for CloudFront (tooling/servers/nginx.py, docs/s3-cloudfront.md).
"""

import base64
import json
import secrets
import socket
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import botocore.exceptions
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.files.base import ContentFile
from storages.backends.s3 import S3Storage

from shared.photo_storage import PhotoStorage
from shared.storage import IMMUTABLE_CACHE_CONTROL, s3_storage_options
from tests.birdai.test_settings_from_environment import SAFE_PRODUCTION_ENV, load_settings
from tests.storages import s3_storage_setting
from tooling.servers.net import LOOPBACK, http_get
from tooling.servers.nginx import CDN_SOURCE_ADDRESS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KEY_PAIR_ID = "K2JCJMDEHXQW5F"  # what a CloudFront public key's ID looks like


def s3_storage(s3_server, bucket: str, **options) -> PhotoStorage:
    """bird.ai's S3 storage pointed at the test server, signed with its key."""
    return PhotoStorage(**s3_storage_setting(s3_server, bucket, **options)["OPTIONS"])


def photo_bytes() -> bytes:
    return secrets.token_bytes(20_000)


def photo(data: bytes | None = None, content_type: str = "image/jpeg") -> ContentFile:
    """A photo as the app saves it: the content type comes from the validated format."""
    content = ContentFile(photo_bytes() if data is None else data)
    content.content_type = content_type
    return content


def cdn_domain(cdn_server) -> str:
    return f"{LOOPBACK}:{cdn_server.port}"


@pytest.fixture(scope="module")
def private_bucket(s3_server) -> str:
    return s3_server.create_bucket(f"storage-{secrets.token_hex(4)}")


# --- Storing ------------------------------------------------------------------------


def record_put_requests(storage: S3Storage) -> list[dict[str, str]]:
    """The headers of every PutObject request the storage sends from now on.

    A botocore event hook that only looks: each request still goes to the server.
    """
    sent = []

    def record(request, **kwargs) -> None:  # returning None lets the request go on
        sent.append({name.lower(): value for name, value in request.headers.items()})

    storage.connection.meta.client.meta.events.register("before-send.s3.PutObject", record)
    return sent


def test_it_stores_our_content_type_and_cache_control_and_sends_no_acl(s3_server, private_bucket):
    storage = s3_storage(s3_server, private_bucket)
    put_requests = record_put_requests(storage)

    # The name says PNG; the content type the app set says JPEG. The app's wins.
    name = storage.save("tests/robin.png", photo(content_type="image/jpeg"))

    stored = s3_server.client().head_object(Bucket=private_bucket, Key=name)
    assert stored["ContentType"] == "image/jpeg"
    assert stored["CacheControl"] == IMMUTABLE_CACHE_CONTROL == "max-age=31536000, immutable"
    # SeaweedFS ignores ACLs (it reports only the owner's, whatever was sent), so the
    # request itself is checked: a bucket with ACLs disabled on AWS refuses any ACL.
    [headers] = put_requests
    acl_headers = [name for name in headers if name.startswith(("x-amz-acl", "x-amz-grant"))]
    assert acl_headers == []


def test_it_never_overwrites_a_stored_photo(s3_server, private_bucket):
    storage = s3_storage(s3_server, private_bucket)
    first = photo_bytes()

    first_name = storage.save("tests/same-name.jpg", photo(first))
    second_name = storage.save("tests/same-name.jpg", photo())

    assert first_name == "tests/same-name.jpg"
    assert second_name != first_name
    assert second_name.startswith("tests/same-name_")
    assert second_name.endswith(".jpg")
    with storage.open(first_name) as stored:
        assert stored.read() == first


# --- Links without a CDN: S3 presigned URLs -------------------------------------------


def test_it_links_to_s3_with_presigned_urls_that_expire(s3_server, private_bucket):
    storage = s3_storage(s3_server, private_bucket, url_expire_seconds=600)
    data = photo_bytes()
    name = storage.save("tests/presigned.jpg", photo(data))

    url = storage.url(name)
    signed = http_get(url)
    unsigned = http_get(url.split("?")[0])

    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["600"]
    assert (signed.status, signed.body) == (200, data)
    assert signed.headers["Content-Type"] == "image/jpeg"
    assert unsigned.status == 403  # the bucket is private


# --- Links through the CDN ----------------------------------------------------------


def test_the_cdn_reads_the_private_bucket_that_nobody_else_can(
    s3_server, oac_bucket, oac_cdn_server
):
    storage = s3_storage(
        s3_server, oac_bucket, custom_domain=cdn_domain(oac_cdn_server), url_protocol="http:"
    )
    data = photo_bytes()
    name = storage.save("tests/through-the-cdn.jpg", photo(data))

    url = storage.url(name)  # no CloudFront key: a plain link on the CDN's domain
    first, second = http_get(url), http_get(url)
    direct = f"{s3_server.endpoint_url}/{oac_bucket}/{name}"

    assert url == f"{oac_cdn_server.url}/{name}"
    assert (first.status, first.headers["X-Cache-Status"]) == (200, "MISS")
    assert (second.status, second.headers["X-Cache-Status"]) == (200, "HIT")
    assert first.body == second.body == data
    assert second.headers["Cache-Control"] == IMMUTABLE_CACHE_CONTROL
    # Only the CDN's address may read; a header claiming to be it does not help.
    assert http_get(direct).status == 403
    assert http_get(direct, headers={"X-Forwarded-For": CDN_SOURCE_ADDRESS}).status == 403


@pytest.fixture(scope="module")
def cloudfront_key() -> rsa.RSAPrivateKey:
    """A throwaway key pair, as `openssl genrsa 2048` makes for a CloudFront key group."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(private_key: rsa.RSAPrivateKey) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


# CloudFront checks the signature with RSA and SHA-1 (SHA-256 only when the URL says
# Hash-Algorithm=SHA256, which botocore's signer does not).
CLOUDFRONT_PADDING = padding.PKCS1v15()
CLOUDFRONT_HASH = hashes.SHA1()  # noqa: S303


def cloudfront_b64decode(text: str) -> bytes:
    """CloudFront's URL-safe base64: + = / are sent as - _ ~."""
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


def signed_query(url: str) -> tuple[str, dict[str, str]]:
    resource, query = url.split("?")
    return resource, {key: value for key, [value] in parse_qs(query).items()}


def check_folder_policy(
    params: dict[str, str], resource: str, key: rsa.RSAPrivateKey, valid_from: float
) -> bytes:
    """One custom policy for the whole folder (resource), valid at least until valid_from,
    to a whole hour, signed with key; its bytes."""
    policy_bytes = cloudfront_b64decode(params["Policy"])
    [statement] = json.loads(policy_bytes)["Statement"]
    assert statement["Resource"] == resource
    expires = statement["Condition"]["DateLessThan"]["AWS:EpochTime"]
    assert valid_from <= expires <= valid_from + 3600
    assert expires % 3600 == 0
    # What CloudFront checks: RSA with SHA-1 over the policy. Raises if it is wrong.
    signature = cloudfront_b64decode(params["Signature"])
    key.public_key().verify(signature, policy_bytes, CLOUDFRONT_PADDING, CLOUDFRONT_HASH)
    return policy_bytes


def test_it_links_through_the_cdn_with_one_cloudfront_signature_per_folder(
    s3_server, oac_bucket, oac_cdn_server, cloudfront_key
):
    storage = s3_storage(
        s3_server,
        oac_bucket,
        custom_domain=cdn_domain(oac_cdn_server),
        url_protocol="http:",
        cloudfront_key_id=KEY_PAIR_ID,
        cloudfront_key=pem(cloudfront_key),
        url_expire_seconds=600,
    )
    data = photo_bytes()
    name = storage.save("tests/signed/photo.jpg", photo(data))
    other_name = storage.save("tests/signed/thumbnail.webp", photo())

    before = time.time()
    url, other_url = storage.url(name), storage.url(other_name)

    resource, params = signed_query(url)
    assert resource == f"{oac_cdn_server.url}/{name}"
    assert set(params) == {"Policy", "Signature", "Key-Pair-Id"}
    assert params["Key-Pair-Id"] == KEY_PAIR_ID
    policy_bytes = check_folder_policy(
        params, f"{oac_cdn_server.url}/tests/signed/*", cloudfront_key, valid_from=before + 600
    )
    assert signed_query(other_url)[1] == params  # the same signature: no second RSA sign
    signature = cloudfront_b64decode(params["Signature"])
    public_key = cloudfront_key.public_key()
    tampered = policy_bytes.replace(b"tests/signed/*", b"tests/*")
    with pytest.raises(InvalidSignature):  # the signature covers the resource
        public_key.verify(signature, tampered, CLOUDFRONT_PADDING, CLOUDFRONT_HASH)

    # The link stays the same for the hour: the browser's cached copy stays valid.
    assert storage.url(name) == url
    # The stand-in does not check signatures, and its cache key leaves the query string
    # out, so links signed for other times share one cached copy.
    longer_url = storage.url(name, expire=7200)
    first, second = http_get(url), http_get(longer_url)
    assert longer_url != url
    assert (first.status, first.headers["X-Cache-Status"]) == (200, "MISS")
    assert (second.status, second.headers["X-Cache-Status"]) == (200, "HIT")
    assert first.body == second.body == data


def test_links_in_other_folders_get_their_own_signature(cloudfront_key, s3_server, oac_bucket):
    storage = s3_storage(
        s3_server,
        oac_bucket,
        custom_domain="d111111abcdef8.cloudfront.net",
        cloudfront_key_id=KEY_PAIR_ID,
        cloudfront_key=pem(cloudfront_key),
    )
    alice = signed_query(storage.url("submissions/1/a.jpg"))[1]
    bob = signed_query(storage.url("submissions/2/b.jpg"))[1]
    assert alice["Signature"] != bob["Signature"]
    [statement] = json.loads(cloudfront_b64decode(bob["Policy"]))["Statement"]
    assert statement["Resource"] == "https://d111111abcdef8.cloudfront.net/submissions/2/*"


# --- Outages ------------------------------------------------------------------------
# s3_storage_options makes two attempts, and botocore's standard retry mode waits up to a
# second before the second one.
ATTEMPTS = 2
MAX_BACKOFF_SECONDS = 1.0
TIMEOUT_SECONDS = 0.5


def seconds_to_fail(storage: S3Storage, exception: type[Exception]) -> float:
    """How long saving takes to raise `exception`, once the S3 client exists."""
    storage.connection  # noqa: B018 - builds the client, which takes a moment the first time
    started = time.monotonic()
    with pytest.raises(exception):
        storage.save("tests/outage.jpg", photo())
    return time.monotonic() - started


def test_it_fails_fast_when_s3_is_down(s3_server, private_bucket):
    storage = s3_storage(
        s3_server, private_bucket, connect_timeout=TIMEOUT_SECONDS, read_timeout=TIMEOUT_SECONDS
    )
    s3_server.stop()
    try:
        seconds = seconds_to_fail(storage, botocore.exceptions.EndpointConnectionError)
    finally:
        s3_server.start()

    # A stopped server refuses connections at once: only the back-off is left.
    assert seconds < ATTEMPTS * TIMEOUT_SECONDS + MAX_BACKOFF_SECONDS


def test_it_fails_fast_when_s3_accepts_connections_but_never_answers():
    """A hung server is worse than a stopped one: only the read timeout ends the wait."""
    with socket.socket() as silent:
        silent.bind((LOOPBACK, 0))
        silent.listen(8)  # the kernel accepts connections; nobody ever reads from them
        storage = S3Storage(
            **s3_storage_options(
                bucket_name="photos",
                endpoint_url=f"http://{LOOPBACK}:{silent.getsockname()[1]}",
                region_name="us-east-1",
                connect_timeout=TIMEOUT_SECONDS,
                read_timeout=TIMEOUT_SECONDS,
            ),
            access_key="anyone",
            secret_key="anything",
        )
        seconds = seconds_to_fail(storage, botocore.exceptions.ReadTimeoutError)

    assert ATTEMPTS * TIMEOUT_SECONDS <= seconds
    assert seconds < ATTEMPTS * TIMEOUT_SECONDS + MAX_BACKOFF_SECONDS + 0.5


# --- Settings -----------------------------------------------------------------------


def test_settings_sign_cdn_links_with_the_cloudfront_key_file(tmp_path, cloudfront_key):
    key_file = tmp_path / "cloudfront.pem"
    key_file.write_text(pem(cloudfront_key))
    env = {
        "AWS_STORAGE_BUCKET_NAME": "birds",
        "AWS_S3_CUSTOM_DOMAIN": "photos.example.com",
        "AWS_CLOUDFRONT_KEY_ID": KEY_PAIR_ID,
        "AWS_CLOUDFRONT_KEY_FILE": str(key_file),
        "AWS_QUERYSTRING_EXPIRE": "900",
    }
    options = "s.STORAGES['default']['OPTIONS']"
    result = load_settings(env, f"{options}['cloudfront_key'] == open({str(key_file)!r}).read()")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"

    result = load_settings(
        env,
        f"{{k: v for k, v in {options}.items() if k not in ('client_config', 'cloudfront_key')}}",
    )
    expected = s3_storage_options(
        bucket_name="birds",
        custom_domain="photos.example.com",
        cloudfront_key_id=KEY_PAIR_ID,
        url_expire_seconds=900,
    )
    del expected["client_config"], expected["cloudfront_key"]
    assert result.stdout.strip() == str(expected)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AWS_CLOUDFRONT_KEY_ID": KEY_PAIR_ID}, "must be set together"),
        (
            {"AWS_CLOUDFRONT_KEY_ID": KEY_PAIR_ID, "AWS_CLOUDFRONT_KEY_FILE": "/no/such.pem"},
            "AWS_CLOUDFRONT_KEY_FILE='/no/such.pem' is not a readable",
        ),
        ({"AWS_S3_URL_PROTOCOL": "ftp:"}, "AWS_S3_URL_PROTOCOL='ftp:' must be one of"),
    ],
)
def test_settings_refuse_a_broken_cloudfront_configuration(env, message):
    result = load_settings({"AWS_STORAGE_BUCKET_NAME": "birds", **env})
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-600:]


def test_production_refuses_a_cdn_without_a_signing_key():
    env = {
        **SAFE_PRODUCTION_ENV,
        "AWS_STORAGE_BUCKET_NAME": "birds",
        "AWS_S3_CUSTOM_DOMAIN": "photos.example.com",
    }
    result = load_settings(env)
    assert result.returncode != 0
    assert "AWS_S3_CUSTOM_DOMAIN needs AWS_CLOUDFRONT_KEY_ID" in result.stderr, result.stderr[-600:]


# --- The AWS policies in docs/aws ---------------------------------------------------


def policy_actions(name: str) -> dict[str, set[str]]:
    """Each statement's resource and the actions it allows, from docs/aws/<name>."""
    policy = json.loads((PROJECT_ROOT / "docs" / "aws" / name).read_text())
    actions = {}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        listed = statement["Action"]
        actions[statement["Resource"]] = {listed} if isinstance(listed, str) else set(listed)
    return actions


def test_the_bucket_policy_lets_only_one_cloudfront_distribution_read():
    policy = json.loads((PROJECT_ROOT / "docs/aws/bucket-policy-cloudfront-oac.json").read_text())
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["AWS:SourceArn"].startswith(
        "arn:aws:cloudfront::"
    )
    assert policy_actions("bucket-policy-cloudfront-oac.json") == {
        "arn:aws:s3:::BUCKET-NAME/*": {"s3:GetObject"}
    }


def test_the_app_server_policy_allows_only_what_the_storage_does():
    assert policy_actions("app-server-iam-policy.json") == {
        "arn:aws:s3:::BUCKET-NAME/*": {"s3:PutObject", "s3:GetObject", "s3:DeleteObject"},
        "arn:aws:s3:::BUCKET-NAME": {"s3:ListBucket"},
    }
