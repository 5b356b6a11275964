"""Decoding and preprocessing a 12 MP JPEG, with and without Pillow's draft mode.

draft() asks the JPEG decoder for a picture 2, 4 or 8 times smaller, which it makes
by skipping most of the inverse DCT work: the 12 million pixels are never produced.
classifier/images.py always uses it; the variant without it lives only here, to show
what it saves.
"""

import io
from typing import TYPE_CHECKING

from django.conf import settings
from PIL import Image

from bench.table import Row, time_row
from bench.timing import median, repeat_ms
from classifier.images import apply_exif_orientation, decode_image, to_model_input, to_rgb

if TYPE_CHECKING:
    from bench.context import BenchContext

RUNS = 15
WARM_UP_RUNS = 2


def decode_without_draft(data: bytes) -> Image.Image:
    """decode_image's steps for a JPEG, minus draft(): every pixel is decoded."""
    image = Image.open(io.BytesIO(data), formats=["JPEG"])
    image.load()
    return to_rgb(apply_exif_orientation(image))


def decode_rows(context: "BenchContext") -> list[Row]:
    photo = context.photo

    def drafted() -> Image.Image:
        return decode_image(
            photo.data, filename=photo.filename, max_pixels=settings.MAX_IMAGE_PIXELS
        )

    def with_draft() -> None:
        to_model_input(drafted())

    def without_draft() -> None:
        to_model_input(decode_without_draft(photo.data))

    width, height = drafted().size
    how = f"{photo.megabytes:.1f} MB 4000x3000 JPEG ({photo.source}), median of {RUNS}"
    floor = context.floor_ms
    return [
        time_row(
            "decode+preprocess 12 MP, draft",
            median(repeat_ms(with_draft, runs=RUNS, warm_up=WARM_UP_RUNS)),
            floor_ms=floor,
            how=f"{how}, decoded at {width}x{height}",
        ),
        time_row(
            "decode+preprocess 12 MP, no draft",
            median(repeat_ms(without_draft, runs=RUNS, warm_up=WARM_UP_RUNS)),
            floor_ms=floor,
            how=f"{how}, decoded at full size",
        ),
    ]
