"""Issue #12, finding 2: no accepted upload may raise a worker's peak memory by more than
300 MB over its warmed-up peak (two workers and the system must fit a 1 GiB instance).

The real thing: gunicorn with 2 sync workers on loopback, warmed up with normal photos
through both endpoints; then each small hostile file (bench/upload_memory.py makes them)
is sent to POST /api/v1/classify (anonymous) and POST /api/v1/submissions (API token),
and the worker's peak resident memory (VmHWM) is read. A file the server cannot decode
within MAX_DECODE_BYTES must be refused with a clear 413 instead.
"""

from io import BytesIO

import pytest
from PIL import ExifTags, Image

from bench.upload_memory import (
    ENDPOINTS,
    EXTRA_FILE_BYTES,
    HOSTILE_UPLOADS,
    MB,
    MEMORY_BUDGET_MB,
    UploadMemoryServer,
    app_environment,
    normal_photos,
)
from classifier.images import content_format, decode_photo, validate_photo
from history.photos import CleanCopy, clean_copy, stored_mode
from tooling.photos import enlarged_jpeg, skimage_photo

# Its gunicorn keeps its own SpatiaLite database: the PostGIS run leaves it out.
pytestmark = pytest.mark.database_independent

ACCEPTED = {200, 201}
REFUSALS = {"too_large_to_decode", "too_many_pixels"}


@pytest.fixture(scope="module")
def server(onnx_model, tmp_path_factory):
    server = UploadMemoryServer(app_environment(tmp_path_factory.mktemp("var"), onnx_model))
    try:
        server.start()
        server.warm_up(normal_photos())
        yield server
    finally:
        server.close()


def test_both_workers_are_warmed_up_and_measured(server):
    assert len(server.warmed_peak) == server.warmed_workers == 2
    assert all(peak > 50 * MB for peak in server.warmed_peak.values())


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("upload", HOSTILE_UPLOADS, ids=lambda upload: upload.name)
def test_a_small_hostile_upload_stays_within_the_memory_budget(server, endpoint, upload):
    answer = server.measure(endpoint, upload)
    if answer.status not in ACCEPTED:
        # Refusing is fine, as long as it is a clear 413 for what cannot be decoded.
        assert answer.status == 413, answer
        assert answer.body["error"] in REFUSALS, answer
        assert "memory" in answer.body["message"] or "pixels" in answer.body["message"]
    assert answer.rise_mb <= MEMORY_BUDGET_MB, (
        f"{upload.name} to {endpoint}: a worker's peak rose {answer.rise_mb:.0f} MB over "
        f"its warmed-up peak (answer {answer.status})"
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_only_the_image_field_is_kept_in_memory(server, endpoint):
    extra_fields = next(upload for upload in HOSTILE_UPLOADS if upload.extra_files)
    answer = server.measure(endpoint, extra_fields)
    assert answer.status in ACCEPTED, answer
    # The extra files are 190 MB; drained as they arrive, they leave next to nothing.
    assert answer.rise_mb < 2 * EXTRA_FILE_BYTES / MB, f"peak rose {answer.rise_mb:.0f} MB"


# --- The stored copy: no larger than the history needs ---------------------------------

LONGEST_SIDE = 2048


def stored(data: bytes, filename: str) -> tuple[CleanCopy, Image.Image]:
    """The clean copy as the upload pipeline makes it (history/pipeline.py)."""
    opened = validate_photo(data, filename, max_pixels=50_000_000)
    image = decode_photo(
        opened, longest_side=LONGEST_SIDE, mode=stored_mode(opened), max_decode_bytes=200 * MB
    )
    copy = clean_copy(image, content_format(opened), longest_side=LONGEST_SIDE)
    return copy, Image.open(BytesIO(copy.data))


def saved(image: Image.Image, format: str, **options) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def test_a_phone_photo_is_stored_at_2048_pixels():
    copy, image = stored(enlarged_jpeg(skimage_photo("chelsea.png"), (4000, 3000)), "a.jpg")
    assert image.format == "JPEG"
    assert image.size == (copy.width, copy.height) == (2048, 1536)


def test_a_sideways_photo_is_reduced_then_turned_upright():
    photo = Image.new("RGB", (4000, 3000), (255, 0, 0))
    photo.paste((0, 0, 255), (2000, 0, 4000, 3000))  # red left, blue right
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # "rotate 90° clockwise to show"
    _, image = stored(saved(photo, "JPEG", exif=exif), "sideways.jpg")
    assert image.size == (1536, 2048)
    assert image.getpixel((768, 300)) == pytest.approx((255, 0, 0), abs=40)  # red on top
    assert image.getpixel((768, 1700)) == pytest.approx((0, 0, 255), abs=40)


def test_a_large_transparent_png_keeps_its_transparency_when_reduced():
    photo = Image.new("RGBA", (5000, 3000), (0, 128, 0, 255))
    photo.paste((0, 0, 0, 0), (0, 0, 2500, 3000))  # the left half transparent
    _, image = stored(saved(photo, "PNG"), "a.png")
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (2048, 1229))
    assert image.getpixel((500, 600))[3] == 0
    assert image.getpixel((1500, 600)) == (0, 128, 0, 255)


def test_a_small_photo_is_stored_at_its_own_size():
    _, image = stored(skimage_photo("chelsea.png"), "cat.png")
    assert image.size == (451, 300)
