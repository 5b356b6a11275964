"""The classify path shared by the page and the API: decode → classify.

Nothing is stored: the anonymous classifier keeps no trace of the photo.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from PIL.Image import Image

from classifier.engine import Prediction, get_classifier
from classifier.images import decode_image


@dataclass(frozen=True)
class ClassifiedPhoto:
    image: Image  # decoded, upright, RGB (possibly DCT-downscaled); for previews
    prediction: Prediction
    elapsed_ms: float  # decoding + preprocessing + inference


def classify_photo(*, data: bytes, filename: str) -> ClassifiedPhoto:
    started = time.perf_counter()
    image = decode_image(
        data,
        filename=filename,
        max_pixels=settings.MAX_IMAGE_PIXELS,
        max_decode_bytes=settings.MAX_DECODE_BYTES,
    )
    prediction = get_classifier().classify(image)
    elapsed_ms = (time.perf_counter() - started) * 1000
    return ClassifiedPhoto(image=image, prediction=prediction, elapsed_ms=elapsed_ms)
