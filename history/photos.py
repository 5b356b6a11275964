"""What is stored for a photo besides its bytes: a content type and file extension taken
from the validated format (never from the client), its upright size, a thumbnail."""

from dataclasses import dataclass
from io import BytesIO

from PIL import Image

from classifier.images import content_format, open_image

THUMBNAIL_LONGEST_SIDE = 320
# EXIF orientations 5 to 8 turn the photo a quarter: width and height swap on display.
QUARTER_TURNS = {5, 6, 7, 8}
EXIF_ORIENTATION = 0x0112

STORED_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "HEIF": ("image/heic", "heic"),
}


@dataclass(frozen=True)
class PhotoFacts:
    content_type: str
    extension: str
    width: int  # upright
    height: int


def photo_facts(data: bytes, filename: str) -> PhotoFacts:
    """Reads only the header of a photo that classify_photo has already validated."""
    image = open_image(data, filename)
    content_type, extension = STORED_FORMATS[content_format(image)]
    width, height = image.size
    if image.getexif().get(EXIF_ORIENTATION) in QUARTER_TURNS:
        width, height = height, width
    return PhotoFacts(content_type, extension, width, height)


def make_thumbnail(upright_image: Image.Image) -> bytes:
    """A WebP whose longest side is THUMBNAIL_LONGEST_SIDE, for the history grid."""
    thumbnail = upright_image.copy()
    thumbnail.thumbnail((THUMBNAIL_LONGEST_SIDE, THUMBNAIL_LONGEST_SIDE))
    buffer = BytesIO()
    thumbnail.save(buffer, format="WEBP", quality=80)
    return buffer.getvalue()
