"""manage.py cleanup_storage: orphaned files and submissions whose files are gone."""

import os
import time
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from history.models import Submission

pytestmark = pytest.mark.django_db

HOUR = 3600


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def store(key: str, age_seconds: int = 0) -> str:
    key = default_storage.save(key, ContentFile(b"bytes"))
    if age_seconds:
        then = time.time() - age_seconds
        os.utime(default_storage.path(key), (then, then))
    return key


def submission_with(image: str, thumbnail: str) -> Submission:
    owner, _ = get_user_model().objects.get_or_create(username="alice")
    return Submission.objects.create(
        owner=owner, image=image, thumbnail=thumbnail, content_type="image/jpeg",
        byte_size=5, width=1, height=1, sha256=image[-64:].rjust(64, "0"), is_bird=False,
        bird_probability=0.0, top_species="robin", species=[], model_name="m",
        model_backend="onnx",
    )  # fmt: skip


def cleanup(*options: str) -> str:
    output = StringIO()
    call_command("cleanup_storage", *options, stdout=output, stderr=output)
    return output.getvalue()


@pytest.fixture
def mess():
    """One healthy submission, an old orphan, a fresh orphan, a submission without files."""
    healthy = submission_with(store("submissions/1/a.jpg"), store("submissions/1/a-t.webp"))
    old_orphan = store("submissions/1/orphan.jpg", age_seconds=2 * HOUR)
    fresh_orphan = store("submissions/1/uploading.jpg")  # an upload in progress
    broken = submission_with("submissions/1/gone.jpg", "submissions/1/gone-t.webp")
    return healthy, old_orphan, fresh_orphan, broken


def test_a_dry_run_lists_and_changes_nothing(mess):
    _healthy, old_orphan, fresh_orphan, broken = mess
    report = cleanup()
    assert f"Would delete orphaned file {old_orphan}" in report
    assert f"Would delete submission {broken.pk}: its files are missing" in report
    assert fresh_orphan not in report
    assert "dry run" in report
    assert default_storage.exists(old_orphan)
    assert Submission.objects.count() == 2


def test_delete_removes_old_orphans_and_broken_submissions(mess):
    healthy, old_orphan, fresh_orphan, _broken = mess
    cleanup("--delete")
    assert not default_storage.exists(old_orphan)
    assert default_storage.exists(fresh_orphan)
    assert list(Submission.objects.all()) == [healthy]
    assert default_storage.exists(healthy.image.name)
    assert default_storage.exists(healthy.thumbnail.name)


def test_it_refuses_to_empty_the_history_when_the_storage_looks_wrong(settings, tmp_path):
    submission_with("submissions/1/a.jpg", "submissions/1/a-t.webp")
    settings.MEDIA_ROOT = tmp_path / "an-empty-folder"  # e.g. a mistyped bucket name
    report = cleanup("--delete")
    assert "no submission will be deleted" in report
    assert Submission.objects.count() == 1
