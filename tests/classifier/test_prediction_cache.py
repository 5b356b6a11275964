"""Predictions kept by the photo's SHA-256 (classifier/prediction_cache.py): the same
bytes are classified once, whether they come to the classify API, the page or the
history; a change of model or threshold never gets an old answer; a cache that fails is
a miss, never an error. test_prediction_cache_in_redis.py keeps them in Redis, and
tests/stack/test_stateless_app_servers.py shows it across two app servers sharing one
Redis."""

import hashlib
import logging

import pytest
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile

from classifier import prediction_cache
from history.models import Submission
from tooling.photos import bird_jpeg, skimage_photo

pytestmark = pytest.mark.django_db

CLASSIFY = "/api/v1/classify"


def classify(client, data: bytes, filename: str = "photo.jpg") -> dict:
    response = client.post(CLASSIFY, {"image": SimpleUploadedFile(filename, data)})
    assert response.status_code == 200, response.content
    answer = response.json()
    del answer["elapsed_ms"]  # the time of this request, which differs
    return answer


def test_the_same_bytes_are_classified_once(client, model_runs):
    photo = bird_jpeg()
    first = classify(client, photo)
    again = classify(client, photo, filename="renamed.jpg")  # the name plays no part
    assert model_runs == [1]
    assert again == first
    other = classify(client, skimage_photo("coffee.png"), filename="cup.png")
    assert model_runs == [1, 1]
    assert other != first


def test_the_page_and_the_history_reuse_what_the_api_found(
    client, alice, model_runs, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    photo = bird_jpeg()
    answer = classify(client, photo)
    page = client.post("/", {"image": SimpleUploadedFile("bird.jpg", photo)})
    assert page.status_code == 200
    client.force_login(alice)
    kept = client.post("/history/upload/", {"image": SimpleUploadedFile("bird.jpg", photo)})
    assert kept.status_code == 302, kept.content[:300]
    assert model_runs == [1]
    submission = Submission.objects.get(owner=alice)
    assert submission.top_species == answer["species"][0]["label"]
    assert submission.bird_probability == answer["bird_probability"]


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("CLASSIFIER_MODEL_NAME", "another-model"),
        ("CLASSIFIER_BACKEND", "torch"),
        ("CLASSIFIER_WEIGHTS", "/models/fine-tuned.pt"),
        ("CLASSIFIER_LABELS", "/models/birds-only.txt"),
        ("CLASSIFIER_BIRD_THRESHOLD", 0.9),
    ],
)
def test_another_model_or_threshold_never_gets_an_old_answer(client, settings, setting, value):
    photo = bird_jpeg()
    sha256 = hashlib.sha256(photo).hexdigest()
    classify(client, photo)
    assert prediction_cache.cached_prediction(sha256) is not None
    before = prediction_cache.cache_key(sha256)
    setattr(settings, setting, value)
    assert prediction_cache.cache_key(sha256) != before
    assert prediction_cache.cached_prediction(sha256) is None


def test_a_new_threshold_classifies_again(client, settings, model_runs):
    photo = bird_jpeg()
    assert classify(client, photo)["is_bird"] is True
    settings.CLASSIFIER_BIRD_THRESHOLD = 1.0  # no photo is that sure
    assert classify(client, photo)["is_bird"] is False
    assert model_runs == [1, 1]


def test_zero_seconds_keeps_nothing(client, settings, model_runs):
    settings.CLASSIFIER_CACHE_SECONDS = 0
    photo = bird_jpeg()
    classify(client, photo)
    classify(client, photo)
    assert model_runs == [1, 1]


def test_an_entry_that_cannot_be_read_is_a_miss(client, caplog, model_runs):
    photo = bird_jpeg()
    key = prediction_cache.cache_key(hashlib.sha256(photo).hexdigest())
    caches["default"].set(key, {"is_bird": "half a prediction"})
    with caplog.at_level(logging.WARNING, logger="classifier.prediction_cache"):
        answer = classify(client, photo)
    assert answer["species"][0]["label"] == "flamingo"
    assert model_runs == [1]
    assert "lookup failed" in caplog.text
