"""Photos whose bytes differ on every request, made cheaply, from the repository's
real photos (tooling/photos.py).

The app keeps one submission per photo checksum and may cache a classification by the
photo's SHA-256, so a load test that sent the same file twice would measure those
shortcuts instead of the work. Each request therefore gets bytes nobody sent before.

Re-encoding a JPEG costs the load generator a few milliseconds, on the cores it shares
with the servers it measures, so it is done only a few times at start: a pool of
variants, each of a real photo with one pixel changed (the pixels differ, not only the
file). Each request then takes a variant and adds a random JPEG comment (a COM
segment, a few dozen bytes, no decoding): unique bytes for free.
"""

import random
import secrets
import struct
from io import BytesIO

from PIL import Image

from tooling.photos import jpeg_header_end, read_testdata

# Real camera files with GPS positions in their EXIF (Italy): the uploads put points
# on the map, so /api/v1/locations has something to find.
CAMERA_PHOTOS = [f"exif/gps/DSCN00{number}.jpg" for number in (10, 12, 21, 25, 27, 29, 38, 40, 42)]
# Real bird photos (cut-outs on white), for anonymous classify.
BIRD_PHOTOS = [
    f"birds/{name}.png"
    for name in ("duck", "magpie", "peacock", "pink_flamingo", "rainbow-lorikeet", "vulture")
]
VARIANTS_PER_PHOTO = 3


def pixel_variant(data: bytes, rng: random.Random) -> bytes:
    """The photo re-encoded as a JPEG with one random pixel set to a random colour;
    its EXIF (GPS position, orientation) is kept."""
    image = Image.open(BytesIO(data))
    exif = image.info.get("exif")
    rgb = image.convert("RGB") if image.mode != "RGBA" else flatten(image)
    x, y = rng.randrange(rgb.width), rng.randrange(rgb.height)
    rgb.putpixel((x, y), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    buffer = BytesIO()
    rgb.save(buffer, format="JPEG", quality=90, **({"exif": exif} if exif else {}))
    return buffer.getvalue()


def flatten(image: Image.Image) -> Image.Image:
    white = Image.new("RGB", image.size, "white")
    white.paste(image, mask=image.getchannel("A"))
    return white


def with_comment(jpeg: bytes, comment: bytes) -> bytes:
    """The same JPEG with a comment segment (COM) after its header segments, before its
    image data. Decoders skip comments, so the picture is unchanged; the file's
    checksum is not."""
    position = jpeg_header_end(jpeg)
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return jpeg[:position] + segment + jpeg[position:]


class PhotoPool:
    """Unique photo bytes on demand: `next()` never returns the same bytes twice."""

    def __init__(self, photos: list[str], *, seed: int | None = None) -> None:
        rng = random.Random(seed)  # noqa: S311 - made-up pixels, not a secret
        self.variants = [
            pixel_variant(read_testdata(photo), rng)
            for photo in photos
            for _ in range(VARIANTS_PER_PHOTO)
        ]
        self._rng = rng

    def next(self) -> bytes:
        variant = self._rng.choice(self.variants)
        return with_comment(variant, b"birdai load test " + secrets.token_hex(16).encode())
