"""What is stored for a photo: a clean copy of it, a thumbnail, and facts about both.

The clean copy is the photo turned upright (its EXIF orientation applied to the pixels)
and saved again with no metadata at all: no EXIF (GPS position, capture time, camera,
maker notes), XMP, IPTC, comments or colour profile. Its content type and extension come
from the validated format, never from the client. HEIC is stored as JPEG, which every
browser can show.
"""

from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageOps

from classifier.images import content_format, open_image

THUMBNAIL_LONGEST_SIDE = 320

# The validated format -> how the clean copy is saved: (Pillow format, content type,
# extension, save options).
STORED_FORMATS = {
    "JPEG": ("JPEG", "image/jpeg", "jpg", {"quality": 92}),
    "PNG": ("PNG", "image/png", "png", {}),
    "WEBP": ("WEBP", "image/webp", "webp", {"quality": 92}),
    "HEIF": ("JPEG", "image/jpeg", "jpg", {"quality": 92}),
}
# Modes each stored format can hold; anything else is converted to RGB first.
SAVEABLE_MODES = {"JPEG": {"RGB", "L", "CMYK"}, "WEBP": {"RGB", "RGBA"}}


@dataclass(frozen=True)
class CleanCopy:
    data: bytes
    content_type: str
    extension: str
    width: int  # upright
    height: int


def clean_copy(data: bytes, filename: str) -> CleanCopy:
    """The photo upright and without metadata, for a photo classify_photo has validated.

    Decoded in full and encoded again (about 85 ms for a 12 MP JPEG, measured): Pillow
    cannot rotate a JPEG without re-encoding it, and re-encoding is also the surest way
    to leave every metadata segment behind, since only the pixels are written.
    """
    image = open_image(data, filename)
    pillow_format, content_type, extension, options = STORED_FORMATS[content_format(image)]
    upright = ImageOps.exif_transpose(image)  # also drops the orientation tag
    if pillow_format in SAVEABLE_MODES and upright.mode not in SAVEABLE_MODES[pillow_format]:
        upright = upright.convert(
            "RGBA" if "A" in upright.getbands() and pillow_format == "WEBP" else "RGB"
        )
    # Pillow carries some metadata from the opened file into the saved one by default
    # (a JPEG's comment, a PNG's colour profile, the EXIF that exif_transpose rewrote).
    # Only the PNG/GIF transparency entry describes the pixels; everything else goes.
    upright.info = {key: upright.info[key] for key in ("transparency",) if key in upright.info}
    buffer = BytesIO()
    # No exif=, icc_profile=, comment= or pnginfo= arguments: nothing but pixels is written.
    upright.save(buffer, format=pillow_format, **options)
    return CleanCopy(buffer.getvalue(), content_type, extension, *upright.size)


def make_thumbnail(upright_image: Image.Image) -> bytes:
    """A WebP whose longest side is THUMBNAIL_LONGEST_SIDE, for the history grid."""
    thumbnail = upright_image.copy()
    thumbnail.thumbnail((THUMBNAIL_LONGEST_SIDE, THUMBNAIL_LONGEST_SIDE))
    buffer = BytesIO()
    thumbnail.save(buffer, format="WEBP", quality=80)
    return buffer.getvalue()
