"""EXIF reading (geo/exif.py): real camera files checked against ExifTool, then edge cases.

The real files and their reference values (read by ExifTool) are in tests/testdata/exif
(source and licence in tests/testdata/README.md). The edge cases are JPEGs built here with
Pillow, some of them with hand-broken bytes.
"""

import csv
import struct
import zlib
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from io import BytesIO

import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin
from PIL.TiffImagePlugin import IFDRational

from geo.exif import (
    GpsPosition,
    PhotoMetadata,
    altitude,
    clean_text,
    dms_to_degrees,
    parse_exif_datetime,
    rational_to_float,
    read_photo_metadata,
)
from tooling.photos import (
    GPS_PHOTO,
    GPS_PHOTO_POSITION,
    TESTDATA_DIR,
    decompression_bomb_png,
    read_testdata,
)

GPS = ExifTags.GPS
BASE = ExifTags.Base

# --- Real camera files, checked against the manifest ----------------------------------------

# Files where we knowingly read something other than ExifTool, and why.
KNOWN_DIFFERENCES = {
    # This Canon PowerShot A5 stores make and model in a Canon CIFF block ("HEAPJPGM" in an
    # APP0 segment), not in EXIF. ExifTool parses CIFF; Pillow, and so this reader, does not.
    "exif-org/sony-powershota5.jpg": {"camera_make": None, "camera_model": None},
}


def manifest_rows() -> list:
    """One pytest param per row of exif/MANIFEST.csv."""
    manifest = TESTDATA_DIR / "exif" / "MANIFEST.csv"
    with manifest.open(newline="", encoding="utf-8") as file:
        return [pytest.param(row, id=row["file"]) for row in csv.DictReader(file)]


def optional_float(text: str) -> float | None:
    return float(text) if text else None


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
@pytest.mark.parametrize("row", manifest_rows())
def test_matches_exiftool_on_real_camera_files(row):
    metadata = read_photo_metadata(read_testdata(f"exif/{row['file']}"))

    if row["has_gps"] == "yes":
        assert metadata.location is not None
        assert metadata.location.latitude == pytest.approx(float(row["latitude"]), abs=1e-6)
        assert metadata.location.longitude == pytest.approx(float(row["longitude"]), abs=1e-6)
        expected_altitude = optional_float(row["altitude_m"])
        if expected_altitude is None:
            assert metadata.location.altitude_m is None
        else:
            assert metadata.location.altitude_m == pytest.approx(expected_altitude, abs=0.01)
    else:
        assert metadata.location is None

    expected = {
        "camera_make": row["make"] or None,
        "camera_model": row["model"] or None,
        **KNOWN_DIFFERENCES.get(row["file"], {}),
    }
    actual = {field: getattr(metadata, field) for field in expected}
    assert actual == expected


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
@pytest.mark.parametrize("row", manifest_rows())
def test_an_opened_photo_reveals_the_same_as_its_bytes(row):
    # The upload pipeline hands over the photo its validation opened (history/revealed.py).
    data = read_testdata(f"exif/{row['file']}")
    with Image.open(BytesIO(data)) as opened:
        assert read_photo_metadata(data, opened) == read_photo_metadata(data)


@pytest.mark.parametrize(
    ("file", "taken_at"),
    [
        # DateTimeOriginal, no offset tag: a naive local time.
        ("gps/DSCN0010.jpg", datetime(2008, 10, 22, 16, 28, 39)),
        # DateTimeOriginal wins over DateTime (2008:07:31, when the file was edited).
        ("Canon_40D.jpg", datetime(2008, 5, 30, 15, 56, 1)),
        # No DateTimeOriginal: falls back to DateTime.
        ("long_description.jpg", datetime(2008, 7, 31, 10, 50, 0)),
        # No date at all.
        ("PaintTool_sample.jpg", None),
    ],
)
def test_capture_time_of_real_camera_files(file, taken_at):
    assert read_photo_metadata(read_testdata(f"exif/{file}")).taken_at == taken_at


# --- Photos built for the test ----------------------------------------------------------------


def rational(numerator: int, denominator: int = 1) -> IFDRational:
    return IFDRational(numerator, denominator)


def dms(degrees: float, minutes: float, seconds: float) -> tuple[IFDRational, ...]:
    """A degrees/minutes/seconds triple as Pillow writes it (exact, via Fraction)."""
    return tuple(IFDRational(Fraction(str(part))) for part in (degrees, minutes, seconds))


def make_exif(gps: dict | None = None, exif_ifd: dict | None = None, **main) -> Image.Exif:
    """An Exif block: main IFD tags by name (Make="Acme"), plus GPS and Exif sub-IFD tags."""
    exif = Image.Exif()
    exif[BASE.Make] = "Acme"  # so the block is never empty (Pillow skips writing an empty one)
    for name, value in main.items():
        exif[BASE[name]] = value
    if gps:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(gps)
    if exif_ifd:
        exif.get_ifd(ExifTags.IFD.Exif).update(exif_ifd)
    return exif


def jpeg_with_exif(exif: Image.Exif | bytes) -> bytes:
    """A tiny JPEG whose APP1 segment holds this Exif block, or these raw bytes verbatim."""
    buffer = BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def gps_photo(**gps_by_name) -> bytes:
    """A JPEG with these GPS tags, by name: gps_photo(GPSLatitudeRef="S", ...)."""
    return jpeg_with_exif(make_exif(gps={GPS[name]: value for name, value in gps_by_name.items()}))


SYDNEY = {  # Sydney Opera House: south and east
    "GPSLatitudeRef": "S",
    "GPSLatitude": dms(33, 51, 24.6),
    "GPSLongitudeRef": "E",
    "GPSLongitude": dms(151, 12, 55.2),
}


@pytest.mark.parametrize(
    ("gps", "expected"),
    [
        pytest.param(SYDNEY, (-33.8568333, 151.2153333), id="south-east"),
        pytest.param(
            {**SYDNEY, "GPSLatitudeRef": "N", "GPSLongitudeRef": "W"},
            (33.8568333, -151.2153333),
            id="north-west",
        ),
        pytest.param(
            {**SYDNEY, "GPSLongitudeRef": "W"}, (-33.8568333, -151.2153333), id="south-west"
        ),
        pytest.param(
            {**SYDNEY, "GPSLatitude": dms(33.8568333, 0, 0)},
            (-33.8568333, 151.2153333),
            id="decimal-degrees-zero-minutes",
        ),
        pytest.param(
            {**SYDNEY, "GPSLatitude": dms(90, 0, 0), "GPSLongitude": dms(180, 0, 0)},
            (-90.0, 180.0),
            id="exactly-at-the-limits",
        ),
    ],
)
def test_reads_position_in_every_hemisphere(gps, expected):
    location = read_photo_metadata(gps_photo(**gps)).location
    assert location is not None
    assert (location.latitude, location.longitude) == pytest.approx(expected, abs=1e-6)
    assert location.altitude_m is None


@pytest.mark.parametrize(
    "gps",
    [
        pytest.param(
            {**SYDNEY, "GPSLatitude": (rational(33), rational(51, 0), rational(0))},
            id="zero-denominator",
        ),
        pytest.param({**SYDNEY, "GPSLongitude": (rational(0, 0),) * 3}, id="no-fix-0/0"),
        pytest.param(
            {k: v for k, v in SYDNEY.items() if k != "GPSLatitudeRef"}, id="missing-latitude-ref"
        ),
        pytest.param(
            {k: v for k, v in SYDNEY.items() if k != "GPSLongitudeRef"}, id="missing-longitude-ref"
        ),
        pytest.param(
            {k: v for k, v in SYDNEY.items() if k != "GPSLongitude"}, id="missing-longitude"
        ),
        pytest.param({**SYDNEY, "GPSLatitudeRef": "X"}, id="unknown-ref"),
        pytest.param({**SYDNEY, "GPSLatitudeRef": "E", "GPSLongitudeRef": "N"}, id="refs-swapped"),
        pytest.param({**SYDNEY, "GPSLatitude": dms(91, 0, 0)}, id="latitude-over-90"),
        pytest.param({**SYDNEY, "GPSLatitude": dms(89, 60, 0)}, id="latitude-over-90-by-minutes"),
        pytest.param({**SYDNEY, "GPSLongitude": dms(181, 0, 0)}, id="longitude-over-180"),
        pytest.param({**SYDNEY, "GPSLatitude": dms(33, 60, 0)}, id="minutes-60"),
        pytest.param({**SYDNEY, "GPSLongitude": dms(151, 12, 75)}, id="seconds-75"),
        pytest.param({**SYDNEY, "GPSLatitude": (rational(33), rational(51))}, id="two-values"),
        pytest.param({**SYDNEY, "GPSLatitude": rational(33)}, id="single-value"),
        pytest.param({"GPSVersionID": b"\x02\x02\x00\x00"}, id="version-only"),
    ],
)
def test_rejects_unusable_positions(gps):
    metadata = read_photo_metadata(gps_photo(**gps))
    assert metadata.location is None
    assert metadata.camera_make == "Acme"  # the rest of the metadata is still read


@pytest.mark.parametrize(
    ("altitude_tags", "expected"),
    [
        pytest.param(
            {"GPSAltitudeRef": b"\x00", "GPSAltitude": rational(1055, 10)},
            105.5,
            id="above-sea-level",
        ),
        pytest.param(
            {"GPSAltitudeRef": b"\x01", "GPSAltitude": rational(430)}, -430.0, id="below-sea-level"
        ),
        pytest.param({"GPSAltitude": rational(42)}, 42.0, id="missing-ref-means-above"),
        pytest.param(
            {"GPSAltitudeRef": b"\x00", "GPSAltitude": rational(0, 0)}, None, id="zero-denominator"
        ),
        pytest.param(
            {"GPSAltitudeRef": b"\x07", "GPSAltitude": rational(42)}, None, id="unknown-ref"
        ),
        pytest.param({"GPSAltitudeRef": b"\x01"}, None, id="ref-without-altitude"),
    ],
)
def test_altitude_is_kept_or_dropped_on_its_own(altitude_tags, expected):
    location = read_photo_metadata(gps_photo(**SYDNEY, **altitude_tags)).location
    assert location is not None  # a bad altitude never loses the position
    assert location.altitude_m == (pytest.approx(expected) if expected is not None else None)


def test_reads_camera_and_capture_time():
    exif = make_exif(
        Make="Canon\x00junk after the C string end",
        Model="  EOS 5D   ",
        Orientation=6,
        DateTime="2024:05:02 09:00:00",
        exif_ifd={
            BASE.DateTimeOriginal: "2024:05:01 06:30:15",
            BASE.OffsetTimeOriginal: "+02:00",
        },
    )
    assert read_photo_metadata(jpeg_with_exif(exif)) == PhotoMetadata(
        location=None,
        taken_at=datetime(2024, 5, 1, 6, 30, 15, tzinfo=timezone(timedelta(hours=2))),
        camera_make="Canon",
        camera_model="EOS 5D",
    )


@pytest.mark.parametrize(
    ("main", "exif_ifd", "expected"),
    [
        pytest.param(
            {},
            {BASE.DateTimeOriginal: "2024:05:01 06:30:15"},
            datetime(2024, 5, 1, 6, 30, 15),
            id="no-offset-is-naive",
        ),
        pytest.param(
            {},
            {BASE.DateTimeOriginal: "2024:05:01 06:30:15", BASE.OffsetTimeOriginal: "-03:30"},
            datetime(2024, 5, 1, 6, 30, 15, tzinfo=timezone(-timedelta(hours=3.5))),
            id="negative-offset",
        ),
        pytest.param(
            {},
            {BASE.DateTimeOriginal: "2024:05:01 06:30:15", BASE.OffsetTimeOriginal: "   :  "},
            datetime(2024, 5, 1, 6, 30, 15),
            id="blank-offset-is-naive",
        ),
        pytest.param(
            {"DateTime": "2024:05:02 09:00:00"},
            {BASE.OffsetTime: "+01:00"},
            datetime(2024, 5, 2, 9, 0, tzinfo=timezone(timedelta(hours=1))),
            id="falls-back-to-datetime-with-its-own-offset",
        ),
        pytest.param(
            {"DateTime": "2024:05:02 09:00:00"},
            {BASE.DateTimeOriginal: "0000:00:00 00:00:00"},
            datetime(2024, 5, 2, 9, 0),
            id="unset-clock-falls-back",
        ),
        pytest.param({}, {BASE.DateTimeOriginal: "    :  :     :  :  "}, None, id="all-blank"),
        pytest.param({}, {BASE.DateTimeOriginal: "2024:02:30 10:00:00"}, None, id="no-such-day"),
    ],
)
def test_capture_time(main, exif_ifd, expected):
    metadata = read_photo_metadata(jpeg_with_exif(make_exif(exif_ifd=exif_ifd, **main)))
    assert metadata.taken_at == expected


# --- Broken and unusual files: never a crash ------------------------------------------------


def test_no_exif_at_all():
    buffer = BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "JPEG")
    assert read_photo_metadata(buffer.getvalue()) == PhotoMetadata()


def test_not_an_image_gives_empty_metadata():
    assert read_photo_metadata(b"this is not a photo") == PhotoMetadata()
    assert read_photo_metadata(b"") == PhotoMetadata()


def photo_full_of_metadata(format: str, orientation: int = 1) -> bytes:
    """A 60x40 photo, red on the left half, with GPS, camera, comment, XMP and ICC data
    (tests/history/test_stored_copies_keep_no_metadata.py checks none of it is stored;
    tests/geo reads its position)."""
    image = Image.new("RGB", (60, 40), "blue")
    image.paste("red", (0, 0, 30, 40))
    exif = make_exif(gps={GPS[name]: value for name, value in SYDNEY.items()}, Model="Spy 3000")
    exif[ExifTags.Base.Orientation] = orientation
    options = {
        "exif": exif,
        "xmp": b"<x:xmpmeta>secret place</x:xmpmeta>",
        "icc_profile": ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    }
    if format == "JPEG":
        options["comment"] = b"shot from my balcony"
    buffer = BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def sydney_exif_bytes() -> bytes:
    """The raw APP1 payload ("Exif\\0\\0" + TIFF) of a photo taken in Sydney."""
    return make_exif(gps={GPS[name]: value for name, value in SYDNEY.items()}).tobytes()


def gps_pointer_position(raw: bytes) -> int:
    """Where the 4-byte offset of the main IFD's GPSInfo entry sits in Pillow's EXIF bytes.

    An IFD entry is 12 bytes: tag, type, count, then the value or an offset to it. Pillow
    writes big-endian ("MM"); the GPSInfo tag (0x8825) is a LONG (type 4) holding one offset.
    """
    assert raw[6:8] == b"MM"
    entry = struct.pack(">HHL", BASE.GPSInfo, 4, 1)
    return raw.index(entry) + len(entry)


def test_latitude_stored_with_the_wrong_type_is_ignored():
    """A GPSLatitude entry retyped from RATIONAL (5) to ASCII (2): Pillow reads a string."""
    raw = sydney_exif_bytes()
    entry = struct.pack(">HHL", GPS.GPSLatitude, 5, 3)
    broken = raw.replace(entry, struct.pack(">HHL", GPS.GPSLatitude, 2, 3))
    assert broken != raw
    metadata = read_photo_metadata(jpeg_with_exif(broken))
    assert metadata.location is None
    assert metadata.camera_make == "Acme"


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
@pytest.mark.filterwarnings("ignore:Tag data larger than file:UserWarning")
@pytest.mark.parametrize(
    "offset",
    [
        pytest.param(0xFFFFFF00, id="past-the-end"),
        pytest.param(8, id="loops-back-to-the-main-ifd"),
        pytest.param(0, id="zero"),
    ],
)
def test_gps_pointer_to_nowhere_loses_only_the_position(offset):
    raw = sydney_exif_bytes()
    at = gps_pointer_position(raw)
    broken = raw[:at] + struct.pack(">L", offset) + raw[at + 4 :]
    metadata = read_photo_metadata(jpeg_with_exif(broken))
    assert metadata.location is None
    assert metadata.camera_make == "Acme"


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
@pytest.mark.filterwarnings("ignore:Truncated File Read:UserWarning")
@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"Exif\x00\x00" + b"\xde\xad\xbe\xef" * 8, id="not-a-tiff-header"),
        pytest.param(b"Exif\x00\x00", id="empty-after-the-signature"),
        pytest.param(b"Exif\x00\x00II*\x00\xff\xff\xff\x7f", id="main-ifd-past-the-end"),
        pytest.param(
            # Announces 65535 entries of 12 bytes, then provides one.
            b"Exif\x00\x00II*\x00"
            + struct.pack("<IH", 8, 0xFFFF)
            + struct.pack("<HHLL", BASE.Make, 2, 5, 0x100),
            id="entry-count-too-large",
        ),
    ],
)
def test_garbage_in_the_exif_segment_gives_empty_metadata(payload):
    assert read_photo_metadata(jpeg_with_exif(payload)) == PhotoMetadata()


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
@pytest.mark.filterwarnings("ignore:Truncated File Read:UserWarning")
def test_truncated_exif_segment_never_crashes():
    raw = sydney_exif_bytes()
    for length in range(len(raw)):
        metadata = read_photo_metadata(jpeg_with_exif(raw[:length]))
        assert isinstance(metadata, PhotoMetadata)
    # Cut inside the GPS data: the position is gone, the make (early in the file) is not.
    metadata = read_photo_metadata(jpeg_with_exif(raw[:-10]))
    assert metadata.location is None
    assert metadata.camera_make == "Acme"


def test_png_with_an_exif_chunk():
    buffer = BytesIO()
    Image.new("RGB", (8, 8)).save(
        buffer, "PNG", exif=make_exif(gps={GPS[name]: value for name, value in SYDNEY.items()})
    )
    location = read_photo_metadata(buffer.getvalue()).location
    assert location is not None
    assert (location.latitude, location.longitude) == pytest.approx((-33.8568333, 151.2153333))


def test_png_without_exif_is_not_decoded(monkeypatch):
    """Pillow decodes a whole PNG to look for a late eXIf chunk; the reader must not."""
    loads = []
    original_load = PngImagePlugin.PngImageFile.load

    def counting_load(self):
        loads.append(self)
        return original_load(self)

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", counting_load)
    png = decompression_bomb_png(width=8000, height=8000)  # 64 MP: under Pillow's bomb limit
    assert read_photo_metadata(png) == PhotoMetadata()
    assert loads == []


# --- GPS from every accepted format, wherever the file holds it -----------------------------


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_raw_exif_profile(image: Image.Image, exif: bytes, *, compressed: bool) -> bytes:
    """A PNG with its EXIF in hex in a text chunk, as ImageMagick 6 writes it."""
    exif = exif.removeprefix(b"Exif\x00\x00")
    hex_text = exif.hex()
    lines = [hex_text[start : start + 72] for start in range(0, len(hex_text), 72)]
    text = "\nexif\n" + f"{len(exif):8d}" + "\n" + "\n".join(lines) + "\n"
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type exif", text, zip=compressed)
    return saved(image, "PNG", pnginfo=info)


def png_with_exif_after_the_pixels(png: bytes, exif: bytes) -> bytes:
    """The PNG with an eXIf chunk between its last IDAT and IEND, as some phones write it."""
    iend = png_chunk(b"IEND", b"")
    assert png.endswith(iend)
    return png[: -len(iend)] + png_chunk(b"eXIf", exif.removeprefix(b"Exif\x00\x00")) + iend


def real_gps_photo() -> tuple[Image.Image, bytes]:
    """The pixels and the EXIF block (with its GPS IFD) of a real camera photo."""
    image = Image.open(BytesIO(read_testdata(GPS_PHOTO)))
    return image, image.info["exif"]


def saved(image: Image.Image, format: str, **options) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def in_format(format: str) -> bytes:
    """The real GPS photo in `format`, its EXIF where that format's writers put it."""
    image, exif = real_gps_photo()
    if format in ("PNG, ImageMagick's zTXt profile", "PNG, ImageMagick's tEXt profile"):
        return png_with_raw_exif_profile(image, exif, compressed="zTXt" in format)
    if format == "PNG, eXIf after the pixel data":
        return png_with_exif_after_the_pixels(saved(image, "PNG"), exif)
    if format == "WEBP, EXIF chunk with an Exif header":  # as some tools write it
        return saved(image, "WEBP", exif=exif if exif.startswith(b"Exif") else b"Exif\0\0" + exif)
    if format == "WEBP":
        return saved(image, "WEBP", exif=exif.removeprefix(b"Exif\x00\x00"))
    return saved(image, format, exif=exif)


@pytest.mark.parametrize(
    "format",
    [
        "JPEG",
        "PNG",
        "PNG, eXIf after the pixel data",
        "PNG, ImageMagick's zTXt profile",
        "PNG, ImageMagick's tEXt profile",
        "WEBP",
        "WEBP, EXIF chunk with an Exif header",
        "HEIF",
    ],
)
def test_reads_the_gps_position_from_every_accepted_format(format):
    data = in_format(format)
    metadata = read_photo_metadata(data)
    assert metadata.location is not None, f"{format}: the position was lost"
    position = (metadata.location.latitude, metadata.location.longitude)
    assert position == pytest.approx(GPS_PHOTO_POSITION, abs=1e-6)
    assert (metadata.camera_make, metadata.camera_model) == ("NIKON", "COOLPIX P6000")


def test_png_with_exif_after_the_pixel_data_is_not_decoded(monkeypatch):
    monkeypatch.setattr(
        PngImagePlugin.PngImageFile, "load", lambda self: pytest.fail("the pixels were decoded")
    )
    _, exif = real_gps_photo()
    bomb = png_with_exif_after_the_pixels(decompression_bomb_png(8000, 8000), exif)
    location = read_photo_metadata(bomb).location
    assert (location.latitude, location.longitude) == pytest.approx(GPS_PHOTO_POSITION, abs=1e-6)


def test_a_damaged_exif_chunk_gives_no_position():
    data = bytearray(in_format("PNG, eXIf after the pixel data"))
    gps_ref = data.rindex(b"N\x00")  # GPSLatitudeRef "N", inside the eXIf chunk's body
    data[gps_ref] = ord("S")  # the CRC no longer matches: Sydney-side of the equator is a lie
    assert read_photo_metadata(bytes(data)).location is None


def test_a_png_cut_inside_its_exif_chunk_gives_empty_metadata():
    data = in_format("PNG, eXIf after the pixel data")
    assert read_photo_metadata(data[:-20]) == PhotoMetadata()  # IEND is 12 bytes, CRC 4


# --- The helpers, one by one ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ref", "expected"),
    [
        pytest.param(dms(43, 28, 2.814), "N", 43.4674483333, id="ifdrational-north"),
        pytest.param(((43, 1), (28, 1), (2814, 1000)), "S", -43.4674483333, id="tuples-south"),
        pytest.param((11, 53, 6.456), "E", 11.885126667, id="plain-numbers-east"),
        pytest.param([11, 53, 6.456], "W", -11.885126667, id="list-west"),
        pytest.param(dms(43, 28, 2.814), b"S\x00", -43.4674483333, id="bytes-ref-with-nul"),
        pytest.param(dms(43, 28, 2.814), "s", -43.4674483333, id="lower-case-ref"),
        pytest.param(dms(43, 28, 2.814), None, None, id="missing-ref"),
        pytest.param(dms(43, 28, 2.814), "", None, id="empty-ref"),
        pytest.param(dms(43, 28, 2.814), "Q", None, id="unknown-ref"),
        pytest.param(((43, 1), (28, 0), (0, 1)), "N", None, id="tuple-zero-denominator"),
        pytest.param(
            (rational(43), rational(28), rational(5, 0)),
            "N",
            None,
            id="ifdrational-zero-denominator",
        ),
        pytest.param((90, 0, 0), "N", 90.0, id="north-pole"),
        pytest.param((90, 0, 1), "N", None, id="past-the-north-pole"),
        pytest.param((91, 0, 0), "E", 91.0, id="91-is-a-fine-longitude"),
        pytest.param((180, 0, 0), "W", -180.0, id="antimeridian"),
        pytest.param((180, 30, 0), "W", None, id="past-the-antimeridian"),
        pytest.param((10, 60, 0), "N", None, id="minutes-60"),
        pytest.param((10, 0, 60), "N", None, id="seconds-60"),
        pytest.param((-10, 0, 0), "N", None, id="negative-degrees"),
        pytest.param((10, -1, 0), "N", None, id="negative-minutes"),
        pytest.param((float("nan"), 0, 0), "N", None, id="nan"),
        pytest.param((float("inf"), 0, 0), "N", None, id="infinity"),
        pytest.param((True, 0, 0), "N", None, id="bool"),
        pytest.param((10, 0), "N", None, id="two-values"),
        pytest.param((10, 0, 0, 0), "N", None, id="four-values"),
        pytest.param("10 0 0", "N", None, id="string"),
        pytest.param(None, "N", None, id="none"),
    ],
)
def test_dms_to_degrees(value, ref, expected):
    result = dms_to_degrees(value, ref)
    assert result == (pytest.approx(expected, abs=1e-9) if expected is not None else None)


@pytest.mark.parametrize(
    ("value", "ref", "expected"),
    [
        (rational(1055, 10), b"\x00", 105.5),
        (rational(1055, 10), b"\x01", -105.5),
        ((430, 1), 1, -430.0),  # ref mistyped as SHORT
        (rational(42), None, 42.0),
        (rational(0), b"\x01", 0.0),
        (rational(42), b"\x02", None),
        (rational(42), b"\x00\x01", None),
        (rational(0, 0), b"\x00", None),
        ((5, 0), None, None),
        (-5, None, None),  # GPSAltitude is unsigned; a negative value is corrupt
        (None, b"\x00", None),
        ("100", b"\x00", None),
    ],
)
def test_altitude(value, ref, expected):
    assert altitude(value, ref) == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (rational(1, 4), 0.25),
        ((1, 4), 0.25),
        (Fraction(1, 4), 0.25),
        (3, 3.0),
        (0.5, 0.5),
        (rational(1, 0), None),
        ((1, 0), None),
        ((1.5, 2), 0.75),
        (("1", 2), None),
        ((1, 2, 3), None),
        (None, None),
        (float("nan"), None),
        ((10**400, 1), None),
    ],
)
def test_rational_to_float(value, expected):
    assert rational_to_float(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("NIKON", "NIKON"),
        ("PENTAX K10D        ", "PENTAX K10D"),
        ("ION230\x00F", "ION230"),
        ("\x00\x00\x00", None),
        ("   ", None),
        (b"Canon\x00", "Canon"),
        (42, None),
        (None, None),
    ],
)
def test_clean_text(value, expected):
    assert clean_text(value) == expected


@pytest.mark.parametrize(
    ("value", "offset", "expected"),
    [
        ("2008:10:22 16:28:39", None, datetime(2008, 10, 22, 16, 28, 39)),
        (
            "2008:10:22 16:28:39\x00",
            "+05:45",
            datetime(2008, 10, 22, 16, 28, 39, tzinfo=timezone(timedelta(hours=5, minutes=45))),
        ),
        ("2008:10:22 16:28:39", "+25:00", datetime(2008, 10, 22, 16, 28, 39)),
        ("2008:10:22 16:28:39", "+02:60", datetime(2008, 10, 22, 16, 28, 39)),
        ("2008:10:22 16:28:39", "Z", datetime(2008, 10, 22, 16, 28, 39)),
        ("2008-10-22 16:28:39", None, None),
        ("2008:10:22", None, None),
        ("0000:00:00 00:00:00", None, None),
        (None, "+02:00", None),
    ],
)
def test_parse_exif_datetime(value, offset, expected):
    result = parse_exif_datetime(value, offset)
    assert result == expected
    if expected is not None:
        assert result.utcoffset() == expected.utcoffset()


def test_position_is_a_value():
    assert GpsPosition(1.0, 2.0) == GpsPosition(latitude=1.0, longitude=2.0, altitude_m=None)


def test_a_compressed_text_chunk_is_never_inflated_in_full():
    # 64 MB of "0" characters, zlib-compressed to about 64 KB, under the profile's keyword.
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type exif", "\nexif\n 1\n" + "0" * 64_000_000, zip=True)
    png = saved(Image.new("RGB", (8, 8)), "PNG", pnginfo=info)
    assert len(png) < 1_000_000
    assert read_photo_metadata(png) == PhotoMetadata()
