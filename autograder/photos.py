"""The photos the grader sends, and what it reads in the copies a deployment serves back.

They are real photos of the repository (tests/testdata/, whose README gives their
sources and licences); the autograder's zip must carry the files named here.

The photo uploaded to the history is a camera JPEG with a GPS position in its EXIF, its
Orientation tag set to 6 ("turn 90 degrees clockwise to show"): its pixels are stored
sideways, 640 x 480, and an upright copy is 480 x 640. The tag is changed in place, two
bytes, so the file keeps every other byte (its GPS data, its XMP) as the camera wrote it.
"""

import struct
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageChops, ImageOps

from tooling.photos import GPS_PHOTO, GPS_PHOTO_POSITION, jpeg_segments, read_testdata

# Where it was taken (tooling/photos.py).
GPS_LATITUDE, GPS_LONGITUDE = GPS_PHOTO_POSITION
# About 10 m: a position stored as float degrees comes back within far less.
POSITION_TOLERANCE_DEGREES = 1e-4
ROTATED_CLOCKWISE = 6  # the EXIF Orientation value

ORIENTATION_TAG = 0x0112
APP0, APP1, APP15, COMMENT = 0xE0, 0xE1, 0xEF, 0xFE


def with_orientation(jpeg: bytes, orientation: int) -> bytes:
    """The same JPEG with the Orientation tag of its EXIF (which must have one) set."""
    start = jpeg.index(b"Exif\x00\x00") + 6  # the TIFF header, in the APP1 segment
    byte_order = {b"II": "<", b"MM": ">"}[jpeg[start : start + 2]]
    (ifd0,) = struct.unpack(byte_order + "I", jpeg[start + 4 : start + 8])
    entries = start + ifd0
    (count,) = struct.unpack(byte_order + "H", jpeg[entries : entries + 2])
    for number in range(count):
        entry = entries + 2 + 12 * number
        (tag,) = struct.unpack(byte_order + "H", jpeg[entry : entry + 2])
        if tag == ORIENTATION_TAG:
            value = entry + 8  # a SHORT, in the first two bytes of the value field
            return jpeg[:value] + struct.pack(byte_order + "H", orientation) + jpeg[value + 2 :]
    raise ValueError("the photo's EXIF has no Orientation tag")


def gps_photo() -> bytes:
    return with_orientation(read_testdata(GPS_PHOTO), ROTATED_CLOCKWISE)


@dataclass(frozen=True)
class ServedPhoto:
    format: str
    size: tuple[int, int]
    metadata: list[str]  # what it still carries: "EXIF (with GPS)", "XMP", ...


def inspect(data: bytes) -> ServedPhoto:
    """What a served copy is and which metadata it carries. Raises ValueError if it is
    not an image Pillow can open (the check says so to the student)."""
    try:
        image = Image.open(BytesIO(data))
        image.load()
    except Exception as error:  # noqa: BLE001 - Pillow raises many kinds for a non-image
        raise ValueError(f"not an image: {error}") from None
    found = []
    exif = image.getexif()
    if exif:
        found.append("EXIF (with GPS)" if exif.get_ifd(0x8825) else "EXIF")
    for key, name in [("xmp", "XMP"), ("icc_profile", "a colour profile (ICC)"),
                      ("comment", "a comment"), ("photoshop", "Photoshop/IPTC data")]:  # fmt: skip
        if image.info.get(key) and name not in found:
            found.append(name)
    if image.format == "JPEG":
        for segment in jpeg_segments(data):
            marker = segment.marker
            if APP1 <= marker <= APP15 and not found:
                found.append(f"an APP{marker - APP0} segment ({segment.body[:12]!r}...)")
            elif marker == COMMENT and "a comment" not in found:
                found.append("a comment")
    return ServedPhoto(image.format or "?", image.size, found)


def looks_like(data: bytes, expected: bytes) -> tuple[float, float]:
    """How far the served copy's pixels are from the upright original, and from the
    original turned the other way: (distance to upright, distance to wrong turn).
    Mean absolute difference of small grey thumbnails, 0..255."""
    served = small_grey(Image.open(BytesIO(data)))
    upright = ImageOps.exif_transpose(Image.open(BytesIO(expected)))
    wrong_turn = upright.transpose(Image.Transpose.ROTATE_180)
    return distance(served, small_grey(upright)), distance(served, small_grey(wrong_turn))


def small_grey(image: Image.Image) -> Image.Image:
    return image.convert("L").resize((24, 32) if image.height > image.width else (32, 24))


def distance(a: Image.Image, b: Image.Image) -> float:
    if a.size != b.size:
        return 255.0
    histogram = ImageChops.difference(a, b).histogram()
    return sum(value * count for value, count in enumerate(histogram)) / (a.width * a.height)
