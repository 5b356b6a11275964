"""An upload whose app server dies (kill -9, out of memory) after it stored the photo's
files and before it recorded the row, then sent again, as nginx sends it to another
app server (proxy_next_upstream ... non_idempotent): one submission, and no file
left without a row (issue #14; the stack's tests of faults under load do it for real).

A killed process runs no `except` and no `finally`: Killed, a BaseException that the
pipeline's `except Exception` does not catch, stands in for the kill at that moment.
"""

import secrets

import pytest
from django.core.files.storage import default_storage

from history import pipeline
from history.files import KEY_PREFIX
from history.management.commands.cleanup_storage import stored_keys
from history.models import Submission
from tests.history.test_submissions import cat_png, submit
from tests.storages import s3_storages

pytestmark = pytest.mark.django_db


class Killed(BaseException):
    """The process is gone: nothing after this line runs."""


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice")


@pytest.fixture(params=["local disk", "S3"])
def storage(request, settings, tmp_path):
    """The app's file storage: a fresh media folder, or a fresh S3 bucket."""
    if request.param == "S3":
        s3_server = request.getfixturevalue("s3_server")
        bucket = s3_server.create_bucket(f"killed-midway-{secrets.token_hex(4)}")
        settings.STORAGES = s3_storages(s3_server, bucket)
    else:
        settings.MEDIA_ROOT = tmp_path / "media"
    return request.param


def killed_after_storing(monkeypatch) -> None:
    """The next upload dies once its files are stored, before its row is written."""
    real_record = pipeline.record_submission

    def die_once(**fields):
        monkeypatch.setattr(pipeline, "record_submission", real_record)
        raise Killed

    monkeypatch.setattr(pipeline, "record_submission", die_once)


def test_a_retried_upload_after_a_kill_leaves_no_orphan_file(client, alice, storage, monkeypatch):
    photo = cat_png(compress_level=4)
    killed_after_storing(monkeypatch)
    with pytest.raises(Killed):
        submit(client, alice, photo, "cat.png")
    left_by_the_kill = set(stored_keys(default_storage, KEY_PREFIX))
    assert len(left_by_the_kill) == 2  # the photo and its thumbnail, with no row yet
    assert not Submission.objects.exists()

    retried = submit(client, alice, photo, "cat.png")  # the same request, another server

    assert retried.status_code == 201, retried.content
    submission = Submission.objects.get()
    assert set(stored_keys(default_storage, KEY_PREFIX)) == {
        submission.image.name,
        submission.thumbnail.name,
    }
    assert default_storage.open(submission.image.name).read()[:4] == b"\x89PNG"


def test_the_same_photo_of_two_owners_is_stored_under_keys_of_each(
    client, django_user_model, settings, tmp_path
):
    """The keys come from the owner and the photo: the same bytes from two users are two
    sets of files (each under its owner's prefix), and none can be guessed without the
    SECRET_KEY."""
    settings.MEDIA_ROOT = tmp_path / "media"
    photo = cat_png(compress_level=5)
    users = [django_user_model.objects.create_user(name) for name in ("ann", "ben")]
    for user in users:
        assert submit(client, user, photo, "cat.png").status_code == 201
    ann, ben = (Submission.objects.get(owner=user) for user in users)
    assert ann.image.name.startswith(f"{KEY_PREFIX}/{users[0].pk}/")
    assert ben.image.name.startswith(f"{KEY_PREFIX}/{users[1].pk}/")
    assert ann.image.name.rsplit("/", 1)[1] != ben.image.name.rsplit("/", 1)[1]
    assert ann.sha256 not in ann.image.name
