"""PhotoStorage's CloudFront links on their own (shared/photo_storage.py): built from
django-storages' own options, with no S3 server, so that they are tested apart from the
storage's settings (shared/storage.py, a TODO of its own in a starter). Signing a link
needs no request: CloudFront checks it when the browser asks."""

import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.photo_storage import PhotoStorage
from tests.shared.test_s3_storage_and_cdn import (
    KEY_PAIR_ID,
    check_folder_policy,
    pem,
    signed_query,
)

pytestmark = pytest.mark.database_independent

CDN = "d111111abcdef8.cloudfront.net"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_a_folders_links_share_one_signature_that_covers_the_folder_to_the_hour(signing_key):
    storage = PhotoStorage(
        bucket_name="photos",
        custom_domain=CDN,
        cloudfront_key_id=KEY_PAIR_ID,
        cloudfront_key=pem(signing_key),
        querystring_expire=600,
    )
    before = time.time()
    photo, thumbnail = storage.url("submissions/7/a.jpg"), storage.url("submissions/7/a.webp")

    resource, params = signed_query(photo)
    assert resource == f"https://{CDN}/submissions/7/a.jpg"
    assert set(params) == {"Policy", "Signature", "Key-Pair-Id"}
    assert params["Key-Pair-Id"] == KEY_PAIR_ID
    assert signed_query(thumbnail)[1] == params
    check_folder_policy(params, f"https://{CDN}/submissions/7/*", signing_key, before + 600)
