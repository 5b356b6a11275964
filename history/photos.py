"""What is stored for a photo: a clean copy of it, a thumbnail, and facts about both.

The clean copy is the photo turned upright (its EXIF orientation applied to the pixels)
and saved again with no metadata at all: no EXIF (GPS position, capture time, camera,
maker notes), XMP, IPTC, comments or colour profile. Its content type and extension come
from the validated format, never from the client. HEIC is stored as JPEG, which every
browser can show.

It is also no larger than it needs to be: its longest side is at most
settings.STORED_PHOTO_LONGEST_SIDE (2048 pixels by default). The history shows a photo
at most 60rem (about 900 CSS pixels) wide, so 2048 pixels stay sharp on a 2x (retina)
screen. A 12 MP phone photo stored in full is 3-5 MB; at 2048 pixels about a sixth of
that, which is what S3 stores and the CDN sends every time the page is opened. And a
JPEG is then decoded at 1/2 or 1/4 scale inside its decoder, so no upload makes the
worker hold its full-size pixels (classifier/images.py bounds the rest).
"""

from dataclasses import dataclass
from io import BytesIO

from PIL import Image

from classifier.images import content_format, decode_reduced, has_transparency, open_image

THUMBNAIL_LONGEST_SIDE = 320

# The validated format -> how the clean copy is saved: (Pillow format, content type,
# extension, save options).
STORED_FORMATS = {
    "JPEG": ("JPEG", "image/jpeg", "jpg", {"quality": 92}),
    "PNG": ("PNG", "image/png", "png", {}),
    "WEBP": ("WEBP", "image/webp", "webp", {"quality": 92}),
    "HEIF": ("JPEG", "image/jpeg", "jpg", {"quality": 92}),
}
# The stored formats that keep transparency; in the others it is put on white.
WITH_ALPHA = {"PNG", "WEBP"}


@dataclass(frozen=True)
class CleanCopy:
    data: bytes
    content_type: str
    extension: str
    width: int  # upright
    height: int


def clean_copy(
    data: bytes, filename: str, *, longest_side: int, max_decode_bytes: int | None
) -> CleanCopy:
    """The photo upright, without metadata and with its longest side at most
    `longest_side`, for a photo classify_photo has validated; ImageRejected (413) when
    decoding it would take more than max_decode_bytes.

    Decoded and encoded again (about 85 ms for a 12 MP JPEG in full, measured): Pillow
    cannot rotate a JPEG without re-encoding it, and re-encoding is also the surest way
    to leave every metadata segment behind, since only the pixels are written.
    """
    image = open_image(data, filename)
    pillow_format, content_type, extension, options = STORED_FORMATS[content_format(image)]
    mode = "RGBA" if pillow_format in WITH_ALPHA and has_transparency(image) else "RGB"
    # Reduced by a whole factor first (cheap, a tile at a time), then resized exactly.
    upright = decode_reduced(
        image,
        at_least=fitting_size(image.size, longest_side),
        mode=mode,
        max_decode_bytes=max_decode_bytes,
    )
    upright.thumbnail((longest_side, longest_side), Image.Resampling.LANCZOS)
    # Pillow carries some metadata from the opened file into the saved one by default
    # (a JPEG's comment, a PNG's colour profile, the EXIF the orientation was read from).
    upright.info = {}
    buffer = BytesIO()
    # No exif=, icc_profile=, comment= or pnginfo= arguments: nothing but pixels is written.
    upright.save(buffer, format=pillow_format, **options)
    return CleanCopy(buffer.getvalue(), content_type, extension, *upright.size)


def fitting_size(size: tuple[int, int], longest_side: int) -> tuple[int, int]:
    """`size` scaled to fit a longest_side square (never enlarged): an image stored
    sideways is turned after it is reduced, so its sides may swap but still fit."""
    scale = min(1.0, longest_side / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def make_thumbnail(upright_image: Image.Image) -> bytes:
    """A WebP whose longest side is THUMBNAIL_LONGEST_SIDE, for the history grid."""
    thumbnail = upright_image.copy()
    thumbnail.thumbnail((THUMBNAIL_LONGEST_SIDE, THUMBNAIL_LONGEST_SIDE))
    buffer = BytesIO()
    thumbnail.save(buffer, format="WEBP", quality=80)
    return buffer.getvalue()
