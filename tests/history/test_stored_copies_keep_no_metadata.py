"""The stored copies of a photo carry no metadata and are upright, and what the metadata
revealed is kept as data and shown to the user (issue #4, "Privacy")."""

from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from PIL import Image

from history.models import LocationSource
from history.pipeline import submit_photo
from tests.geo.test_exif import manifest_rows, optional_float, photo_full_of_metadata
from tooling.photos import read_testdata, reencode, skimage_photo

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning"),
]

# Signatures of metadata blocks, as they appear in the bytes of a file that has them.
METADATA_SIGNATURES = {
    "EXIF (APP1)": b"Exif\x00\x00",
    "XMP": b"http://ns.adobe.com/xap/1.0/",
    "IPTC (Photoshop APP13)": b"Photoshop 3.0",
    "ICC profile": b"ICC_PROFILE",
    "PNG text": b"tEXt",
    "PNG international text": b"iTXt",
    "PNG EXIF": b"eXIf",
    "PNG ICC profile": b"iCCP",
}
METADATA_INFO_KEYS = {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "photoshop"}


def assert_no_metadata(data: bytes) -> None:
    found = [name for name, signature in METADATA_SIGNATURES.items() if signature in data]
    assert found == [], f"metadata left in the stored file: {found}"
    with Image.open(BytesIO(data)) as image:
        assert dict(image.getexif()) == {}
        assert METADATA_INFO_KEYS.isdisjoint(image.info), sorted(image.info)
        if image.format == "JPEG":
            assert b"\xff\xfe" not in data  # a JPEG comment (COM) segment


@pytest.fixture
def owner(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return get_user_model().objects.create_user("alice")


def stored_bytes(submission) -> tuple[bytes, bytes]:
    with submission.image.open("rb") as image, submission.thumbnail.open("rb") as thumbnail:
        return image.read(), thumbnail.read()


@pytest.mark.parametrize("row", manifest_rows())
def test_real_camera_files_are_stored_without_metadata(owner, row):
    data = read_testdata(f"exif/{row['file']}")
    submission = submit_photo(owner=owner, data=data, filename=row["file"]).submission

    image, thumbnail = stored_bytes(submission)
    assert_no_metadata(image)
    assert_no_metadata(thumbnail)
    # What the metadata revealed is kept as data (geo/exif.py is checked in detail in
    # tests/geo/test_exif.py).
    if row["has_gps"] == "yes":
        assert submission.location_source == LocationSource.EXIF
        assert submission.location.y == pytest.approx(float(row["latitude"]), abs=1e-6)
        assert submission.location.x == pytest.approx(float(row["longitude"]), abs=1e-6)
        assert submission.altitude_m == pytest.approx(optional_float(row["altitude_m"]), abs=0.01)
    else:
        assert submission.location is None


@pytest.mark.parametrize(
    ("format", "filename", "stored_type"),
    [
        ("JPEG", "a.jpg", "image/jpeg"),
        ("PNG", "a.png", "image/png"),
        ("WEBP", "a.webp", "image/webp"),
        ("HEIF", "a.heic", "image/jpeg"),  # stored as JPEG, which every browser shows
    ],
)
def test_every_format_is_stored_without_metadata(owner, format, filename, stored_type):
    data = photo_full_of_metadata(format)
    assert b"Spy 3000" in data  # the test photo does carry metadata...
    with pytest.raises(AssertionError):
        assert_no_metadata(data)  # ...that the check finds

    submission = submit_photo(owner=owner, data=data, filename=filename).submission

    image, thumbnail = stored_bytes(submission)
    assert submission.content_type == stored_type
    assert_no_metadata(image)
    assert_no_metadata(thumbnail)
    assert b"Spy 3000" not in image
    assert submission.camera == "Acme Spy 3000"
    assert submission.location.y == pytest.approx(-33.8568, abs=1e-3)


def test_a_sideways_photo_is_stored_upright(owner):
    # Stored 60x40 with the red half on the left, and Orientation 6: "rotate 90° clockwise
    # to show". Upright it is 40x60 with the red half on top.
    data = photo_full_of_metadata("JPEG", orientation=6)
    submission = submit_photo(owner=owner, data=data, filename="sideways.jpg").submission

    image, _ = stored_bytes(submission)
    assert_no_metadata(image)  # the Orientation tag is gone too: the pixels are upright
    stored = Image.open(BytesIO(image)).convert("RGB")
    assert stored.size == (40, 60) == (submission.width, submission.height)
    assert stored.getpixel((20, 10)) == pytest.approx((255, 0, 0), abs=40)  # red on top
    assert stored.getpixel((20, 50)) == pytest.approx((0, 0, 255), abs=40)  # blue below


def test_png_pixels_are_kept_exactly(owner):
    data = reencode(skimage_photo("chelsea.png"), "PNG")
    submission = submit_photo(owner=owner, data=data, filename="cat.png").submission
    image, _ = stored_bytes(submission)
    assert Image.open(BytesIO(image)).tobytes() == Image.open(BytesIO(data)).tobytes()


def test_the_page_tells_what_the_photo_revealed(client, owner):
    data = photo_full_of_metadata("JPEG")
    submission = submit_photo(owner=owner, data=data, filename="a.jpg").submission
    client.force_login(owner)
    html = client.get(f"/history/{submission.pk}/").content.decode()
    assert "Where it was taken: -33.85" in html
    assert "Camera: Acme Spy 3000" in html
    assert "carry no metadata at all" in html
    api = client.get(f"/api/v1/submissions/{submission.pk}").json()
    assert api["location"]["source"] == "exif"
    assert api["camera"] == "Acme Spy 3000"
