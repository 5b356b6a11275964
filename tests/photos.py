"""Real photos for tests, and a few deliberately broken files made from them.

Photos come from scikit-image (always installed with the test requirements) and from
the shared real-world test data (settings.TESTDATA_DIR), which may be absent: tests
that need it are skipped with that reason.
"""

import struct
import zlib
from io import BytesIO
from pathlib import Path

import pytest
import skimage
from django.conf import settings
from PIL import Image

SKIMAGE_DATA = Path(skimage.__file__).parent / "data"


def skimage_photo(name: str) -> bytes:
    """A sample photo shipped by scikit-image, e.g. 'chelsea.png' (a cat)."""
    return (SKIMAGE_DATA / name).read_bytes()


def testdata_dir() -> Path:
    directory = Path(settings.TESTDATA_DIR)
    if not directory.is_dir():
        pytest.skip(f"shared test data not found at {directory} (settings.TESTDATA_DIR)")
    return directory


def shared_photo(relative_path: str) -> bytes:
    return (testdata_dir() / relative_path).read_bytes()


def reencode(data: bytes, format: str, **options) -> bytes:
    """The same picture in another file format (JPEG, PNG, WEBP, HEIF, GIF...)."""
    image = Image.open(BytesIO(data))
    if format in {"JPEG", "HEIF"}:
        image = image.convert("RGB")
    buffer = BytesIO()
    if format == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def enlarged_jpeg(data: bytes, size: tuple[int, int] = (4000, 3000), quality: int = 90) -> bytes:
    """A large phone-sized JPEG (12 MP by default) made from a smaller photo."""
    image = Image.open(BytesIO(data)).convert("RGB").resize(size, Image.Resampling.BICUBIC)
    buffer = BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def decompression_bomb_png(width: int = 30_000, height: int = 30_000) -> bytes:
    """A valid ~100 KB PNG that decodes to a huge canvas (900 MP by default).

    Written chunk by chunk because Pillow itself would need the whole canvas in memory.
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    compressor = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)  # filter byte + packed pixels, all black
    pixels = b"".join(compressor.compress(row * 1000) for _ in range(height // 1000))
    pixels += compressor.compress(row * (height % 1000)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
