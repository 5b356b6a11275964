"""What the model said about a photo, kept by the photo's SHA-256 in the shared cache.

The same bytes always get the same answer from the same model, so a photo classified
once, on any app server, is not classified again: a retried upload, the same photo sent
to `/` and then kept, a load test that sends one photo many times. The cache is
Django's default one (settings.py, "Shared cache and sessions"): each process's memory
on the embedded defaults, one server every app server shares when there are several.

The key holds everything the answer depends on besides the bytes: the model's name,
backend, weights and labels, and the bird threshold. A new model or threshold therefore
never gets an old answer; it gets a miss and makes its own. The value is the prediction
as plain JSON (Prediction.as_dict()).

A cache is never needed to be right: a cache that fails (its server down, an entry that cannot
be read) is a miss, and it is logged, never an error for the user.
"""

import hashlib
import logging

from django.conf import settings
from django.core.cache import caches

from classifier.engine import Prediction

logger = logging.getLogger(__name__)

CACHE = "default"
KEY_FORMAT = 1  # raise it when Prediction's fields change: old entries are then missed


def model_identity() -> str:
    """A short digest of the settings the classifier is built from (engine.py)."""
    parts = [
        KEY_FORMAT,
        settings.CLASSIFIER_MODEL_NAME,
        settings.CLASSIFIER_BACKEND,
        settings.CLASSIFIER_WEIGHTS,
        settings.CLASSIFIER_LABELS,
        settings.CLASSIFIER_BIRD_THRESHOLD,
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def cache_key(photo_sha256: str) -> str:
    return f"prediction:{model_identity()}:{photo_sha256}"


def cached_prediction(photo_sha256: str) -> Prediction | None:
    """The prediction made before for these bytes by this model, or None."""
    if not settings.CLASSIFIER_CACHE_SECONDS:
        return None
    try:
        fields = caches[CACHE].get(cache_key(photo_sha256))
        return None if fields is None else Prediction.from_dict(fields)
    except Exception:  # any failure of a cache is a miss
        logger.warning("prediction cache: lookup failed, classifying again", exc_info=True)
        return None


def remember_prediction(photo_sha256: str, prediction: Prediction) -> None:
    """Keeps it for CLASSIFIER_CACHE_SECONDS (a day; 0: not at all)."""
    seconds = settings.CLASSIFIER_CACHE_SECONDS
    if not seconds:
        return
    try:
        caches[CACHE].set(cache_key(photo_sha256), prediction.as_dict(), seconds)
    except Exception:  # not kept: the next request classifies again
        logger.warning("prediction cache: could not keep a prediction", exc_info=True)
