"""The photo every measurement uses: a 12 MP JPEG, the size a phone camera takes."""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from tests.photos import enlarged_jpeg, skimage_photo

PHOTO_SIZE = (4000, 3000)
JPEG_QUALITY = 90
# A real bird photo from the shared test data, 500x375 (4:3, like the phone photo).
SHARED_PHOTO = Path("birds") / "n01534433_junco.JPEG"
# When the shared test data is not there: scikit-image's cat, always installed.
FALLBACK_PHOTO = "chelsea.png"


@dataclass(frozen=True)
class Photo:
    data: bytes
    filename: str
    source: str  # which real photo it was made from

    @property
    def megabytes(self) -> float:
        return len(self.data) / 1_000_000


def twelve_megapixel_jpeg() -> Photo:
    """A real photo enlarged to 4000x3000 and saved as a JPEG of camera-like quality.

    Enlarged photos are smoother than camera ones, so the file is smaller than a
    phone's (a few MB); decoding time depends mostly on the pixel count.
    """
    shared = Path(settings.TESTDATA_DIR) / SHARED_PHOTO
    if shared.is_file():
        original, source = shared.read_bytes(), f"enlarged {shared.name}"
    else:
        original, source = skimage_photo(FALLBACK_PHOTO), f"enlarged {FALLBACK_PHOTO}"
    data = enlarged_jpeg(original, size=PHOTO_SIZE, quality=JPEG_QUALITY)
    return Photo(data=data, filename="photo-12mp.jpg", source=source)
