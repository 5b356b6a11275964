"""What the classifier does for the rest of the app.

    classify_image(image, sha256) -> Prediction  one decoded photo, classified
    classify_photo(bytes) -> ClassifiedPhoto     validate → decode → classify, for the
                                                 anonymous page and API, which keep nothing

A caller that needs the decoded photo for more than the model calls the steps one by one,
so the photo it decodes once serves every use (the model, a stored copy, a thumbnail).
Both pass the photo's SHA-256: a photo classified before, on any app server, gets the
answer kept then (classifier/prediction_cache.py) instead of another model run.
"""

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from PIL.Image import Image

from classifier.engine import Prediction, get_classifier
from classifier.images import decode_photo, to_rgb, validate_photo
from classifier.prediction_cache import cached_prediction, remember_prediction


@dataclass(frozen=True)
class ClassifiedPhoto:
    image: Image  # decoded, upright, RGB (possibly DCT-downscaled); for previews
    prediction: Prediction
    elapsed_ms: float  # decoding + preprocessing + inference


def classify_image(image: Image, *, sha256: str) -> Prediction:
    """What the model sees in a decoded, upright photo (transparency shown on white),
    whose file's bytes have this SHA-256."""
    prediction = cached_prediction(sha256)
    if prediction is None:
        prediction = get_classifier().classify(to_rgb(image))
        remember_prediction(sha256, prediction)
    return prediction


def classify_photo(*, data: bytes, filename: str) -> ClassifiedPhoto:
    started = time.perf_counter()
    opened = validate_photo(data, filename, max_pixels=settings.MAX_IMAGE_PIXELS)
    # Decoded even when the answer is kept: the page shows a preview of the photo.
    image = decode_photo(opened, max_decode_bytes=settings.MAX_DECODE_BYTES)
    prediction = classify_image(image, sha256=hashlib.sha256(data).hexdigest())
    elapsed_ms = (time.perf_counter() - started) * 1000
    return ClassifiedPhoto(image=image, prediction=prediction, elapsed_ms=elapsed_ms)
