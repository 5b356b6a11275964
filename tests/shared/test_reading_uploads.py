"""Uploads are held in memory only, and a file over the limit is drained and refused."""

from io import BytesIO

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.test import RequestFactory

from shared.errors import ImageRejected
from shared.uploads import LimitedMemoryUploadHandler, read_image_upload


def parse_upload(data: bytes, field: str = "image"):
    """A request whose multipart body Django parses through the project's upload handler."""
    request = RequestFactory().post("/", {field: _named_file(data)})
    request.upload_handlers = [LimitedMemoryUploadHandler(request)]
    return request, request.FILES


def _named_file(data: bytes) -> BytesIO:
    upload = BytesIO(data)
    upload.name = "photo.jpg"
    return upload


def test_it_keeps_a_large_upload_in_memory(settings):
    # 5 MB is twice Django's default in-memory limit: by default it would be a temp file.
    settings.MAX_UPLOAD_BYTES = 20 * 1024 * 1024
    _, files = parse_upload(b"\xff" * (5 * 1024 * 1024))
    assert isinstance(files["image"], InMemoryUploadedFile)
    assert files["image"].size == 5 * 1024 * 1024


def test_it_drops_a_file_over_the_limit_and_remembers_it(settings):
    settings.MAX_UPLOAD_BYTES = 1000
    request, files = parse_upload(b"\x00" * 1001)
    assert "image" not in files
    assert request.oversized_uploads == ["image"]


def test_it_accepts_a_file_exactly_at_the_limit(settings):
    settings.MAX_UPLOAD_BYTES = 1000
    request, files = parse_upload(b"\x00" * 1000)
    assert files["image"].read() == b"\x00" * 1000
    assert getattr(request, "oversized_uploads", []) == []


def test_it_reports_an_oversized_file_as_413(settings):
    settings.MAX_UPLOAD_BYTES = 1000
    request, _ = parse_upload(b"\x00" * 5000)
    with pytest.raises(ImageRejected) as rejected:
        read_image_upload(request, "image")
    assert rejected.value.status == 413
    assert rejected.value.code == "too_large"


def test_it_reports_a_missing_field_as_400():
    request, _ = parse_upload(b"data", field="photo")
    with pytest.raises(ImageRejected) as rejected:
        read_image_upload(request, "image")
    assert (rejected.value.status, rejected.value.code) == (400, "missing_image")


def test_it_keeps_only_the_image_field(settings):
    # Any other file beside the image is drained as it arrives: nothing of it is kept.
    settings.MAX_UPLOAD_BYTES = 20 * 1024 * 1024
    request = RequestFactory().post(
        "/", {"image": _named_file(b"\xff" * 1000), "extra": _named_file(b"\0" * 100_000)}
    )
    request.upload_handlers = [LimitedMemoryUploadHandler(request)]
    assert list(request.FILES) == ["image"]
    assert getattr(request, "oversized_uploads", []) == []
