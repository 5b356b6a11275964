"""The photo every measurement uses: a 12 MP JPEG, the size a phone camera takes."""

from dataclasses import dataclass
from pathlib import PurePosixPath

from tooling.photos import GPS_PHOTO, enlarged_jpeg, read_testdata

PHOTO_SIZE = (4000, 3000)
JPEG_QUALITY = 90
# A real camera photo from the repository's test data, 640x480 (4:3, like the phone photo).
ORIGINAL = GPS_PHOTO


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
    data = enlarged_jpeg(read_testdata(ORIGINAL), size=PHOTO_SIZE, quality=JPEG_QUALITY)
    return Photo(
        data=data, filename="photo-12mp.jpg", source=f"enlarged {PurePosixPath(ORIGINAL).name}"
    )
