"""Per-user history on real S3 (SeaweedFS) behind a CDN (nginx standing in for
CloudFront with Origin Access Control), as in production. tests/history/test_submissions.py
covers the same pipeline on local storage, and the API and pages in detail."""

import io
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from history import pipeline
from history.files import KEY_PREFIX
from history.models import Submission
from shared.storage import IMMUTABLE_CACHE_CONTROL
from tests.history.test_submissions import bearer, refuse_inserts_into_submissions, submit
from tests.storages import s3_storages
from tooling.photos import reencode, skimage_photo
from tooling.servers.net import http_get

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice")


@pytest.fixture
def photos_on_s3(settings, s3_server, oac_bucket, oac_cdn_server):
    """The app's default storage is the private bucket; links go through the CDN."""
    settings.STORAGES = s3_storages(
        s3_server,
        oac_bucket,
        custom_domain=f"127.0.0.1:{oac_cdn_server.port}",
        url_protocol="http:",  # the stand-in CDN speaks plain HTTP on loopback
    )
    return oac_bucket


def keys_in(s3_server, bucket: str) -> set[str]:
    pages = s3_server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


@pytest.fixture
def new_keys(s3_server, photos_on_s3):
    """The keys stored since the test began (the bucket is shared by the session).

    Earlier tests' submissions are gone (rolled back) but their objects stay: those are
    removed first. A submission's keys come from its owner and photo (history/files.py),
    and every test's alice is user 1: her coffee.png would find an earlier test's."""
    for key in keys_in(s3_server, photos_on_s3):
        if key.startswith(f"{KEY_PREFIX}/"):
            s3_server.client().delete_object(Bucket=photos_on_s3, Key=key)
    before = keys_in(s3_server, photos_on_s3)
    return lambda: sorted(keys_in(s3_server, photos_on_s3) - before)


def test_a_submission_is_stored_privately_and_served_by_the_cdn(
    client, alice, s3_server, photos_on_s3
):
    photo = skimage_photo("coffee.png")
    body = submit(client, alice, photo, "coffee.png").json()
    submission = Submission.objects.get(pk=body["id"])

    stored = s3_server.client().head_object(Bucket=photos_on_s3, Key=submission.image.name)
    assert (stored["ContentType"], stored["CacheControl"]) == ("image/png", IMMUTABLE_CACHE_CONTROL)
    thumbnail = s3_server.client().head_object(Bucket=photos_on_s3, Key=submission.thumbnail.name)
    assert thumbnail["ContentType"] == "image/webp"

    first, second = http_get(body["image_url"]), http_get(body["image_url"])
    assert (first.status, first.headers["X-Cache-Status"]) == (200, "MISS")
    assert (second.status, second.headers["X-Cache-Status"]) == (200, "HIT")
    assert second.body == submission.image.open("rb").read()
    # PNG is lossless: the clean copy has exactly the uploaded pixels.
    assert Image.open(io.BytesIO(second.body)).tobytes() == Image.open(io.BytesIO(photo)).tobytes()
    direct = http_get(f"{s3_server.endpoint_url}/{photos_on_s3}/{submission.image.name}")
    assert direct.status == 403  # only the CDN may read the bucket


def test_fifty_uploads_leave_no_file_on_the_server(client, alice, new_keys, no_files_left_behind):
    coffee = skimage_photo("coffee.png")
    for quality in range(40, 90):  # fifty different photos
        response = submit(client, alice, reencode(coffee, "JPEG", quality=quality), "c.jpg")
        assert response.status_code == 201
    assert len(new_keys()) == 100  # photos and thumbnails
    # no_files_left_behind: nothing under MEDIA_ROOT or in the temp directory


def test_an_s3_outage_is_a_503_and_records_nothing(client, alice, s3_server, photos_on_s3):
    s3_server.stop()
    try:
        response = submit(client, alice, skimage_photo("coffee.png"), "coffee.png")
    finally:
        s3_server.start()
    assert response.status_code == 503
    assert response.json()["error"] == "storage_unavailable"
    assert Submission.objects.count() == 0


def test_a_database_failure_after_storing_leaves_no_object(client, alice, new_keys):
    refuse_inserts_into_submissions()
    response = submit(client, alice, skimage_photo("coffee.png"), "coffee.png")
    assert response.status_code == 503
    assert new_keys() == []


def test_deleting_a_submission_deletes_its_objects(
    client, alice, new_keys, django_capture_on_commit_callbacks
):
    submission_id = submit(client, alice, skimage_photo("coffee.png"), "coffee.png").json()["id"]
    assert len(new_keys()) == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"/api/v1/submissions/{submission_id}", headers=bearer(alice))
    assert response.status_code == 204
    assert new_keys() == []


def test_an_outage_mid_upload_leaves_an_orphan_that_cleanup_removes(
    client, alice, s3_server, photos_on_s3, new_keys
):
    # S3 goes down right after the photo is stored, before its thumbnail: the request
    # fails, and so does deleting the photo again. No row; one orphaned object.
    s3_events = default_storage.connection.meta.client.meta.events

    def stop_s3_after_the_first_upload(**kwargs) -> None:
        s3_events.unregister("after-call.s3.PutObject", stop_s3_after_the_first_upload)
        s3_server.stop()

    s3_events.register("after-call.s3.PutObject", stop_s3_after_the_first_upload)
    try:
        response = submit(client, alice, skimage_photo("coffee.png"), "coffee.png")
    finally:
        s3_events.unregister("after-call.s3.PutObject", stop_s3_after_the_first_upload)
        s3_server.start()

    assert response.status_code == 503
    assert Submission.objects.count() == 0
    [orphan] = new_keys()
    assert orphan.endswith(".png")  # the photo; the thumbnail was never stored
    report = StringIO()
    call_command("cleanup_storage", "--delete", "--min-age-minutes=0", stdout=report)
    assert f"Deleting orphaned file {orphan}" in report.getvalue()
    assert new_keys() == []


# --- a retried POST (issue #14): nginx resends it to another app server ------------------
# A POST /api/v1/submissions that times out or whose app server dies may be sent again,
# by the client or by the load balancer (proxy_next_upstream). The submission is found
# again by its checksum, so a retry never makes a second submission or second objects.


def test_a_retried_post_is_one_submission_with_one_set_of_objects(client, alice, new_keys):
    photo = skimage_photo("coffee.png")
    first = submit(client, alice, photo, "coffee.png")
    again = submit(client, alice, photo, "coffee.png")  # the very same request
    assert (first.status_code, again.status_code) == (201, 200)  # 200: "the earlier one"
    assert again.json()["id"] == first.json()["id"]
    assert Submission.objects.count() == 1
    submission = Submission.objects.get()
    assert new_keys() == sorted([submission.image.name, submission.thumbnail.name])


def test_a_retry_while_the_first_is_still_running_keeps_the_first(
    client, alice, new_keys, monkeypatch
):
    """The retry reaches another app server before the first request has recorded its
    row: both get past the checksum lookup and store objects. The database's unique
    (owner, sha256) lets one row in; the other request deletes its own objects and
    answers with the first submission."""
    photo = skimage_photo("coffee.png")
    first = submit(client, alice, photo, "coffee.png")
    monkeypatch.setattr(pipeline, "find_earlier", lambda owner, sha256: None)  # not yet seen
    again = submit(client, alice, photo, "coffee.png")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    submission = Submission.objects.get()
    assert new_keys() == sorted([submission.image.name, submission.thumbnail.name])
