"""POST /api/v1/classify: real photos through the real model, and every kind of bad input."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tooling.photos import (
    BIRD_PHOTO,
    bird_jpeg,
    decompression_bomb_png,
    enlarged_jpeg,
    read_testdata,
    reencode,
    skimage_photo,
)

URL = "/api/v1/classify"
CAT_CLASSES = {"tabby", "tiger cat", "Egyptian cat"}


def post_image(api_client, data: bytes, filename: str, content_type: str = "image/jpeg"):
    upload = SimpleUploadedFile(filename, data, content_type=content_type)
    return api_client.post(URL, {"image": upload})


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == code
    assert len(body["message"]) > 10  # a sentence for a person, not just a code
    return body


def test_it_names_a_bird(api_client):
    response = post_image(api_client, bird_jpeg(), "flamingo.jpg")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["is_bird"] is True
    assert body["bird_probability"] > 0.9
    assert body["species"][0]["label"] == "flamingo"
    assert body["model"] == {"name": "efficientnet-lite0-imagenet", "backend": "onnx"}
    assert body["elapsed_ms"] > 0


def test_it_lists_five_species_most_likely_first(api_client):
    body = post_image(api_client, read_testdata("birds/tucan.png"), "t.png").json()
    probabilities = [species["probability"] for species in body["species"]]
    assert len(probabilities) == 5
    assert probabilities == sorted(probabilities, reverse=True)
    # Species probabilities are shares of the whole distribution: together they cannot
    # exceed the total bird probability.
    assert sum(probabilities) <= body["bird_probability"] + 1e-6


def test_it_says_a_cat_is_not_a_bird(api_client):
    response = post_image(api_client, skimage_photo("chelsea.png"), "cat.png", "image/png")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["is_bird"] is False
    assert body["bird_probability"] < 0.05
    assert body["top_class"]["label"] in CAT_CLASSES


@pytest.mark.parametrize(
    ("format", "filename"),
    [("JPEG", "cat.jpg"), ("PNG", "cat.png"), ("WEBP", "cat.webp"), ("HEIF", "cat.heic")],
)
def test_it_accepts_each_supported_format(api_client, format, filename):
    data = reencode(skimage_photo("chelsea.png"), format)
    body = post_image(api_client, data, filename, "application/octet-stream").json()
    assert body["top_class"]["label"] in CAT_CLASSES


def test_it_classifies_a_12_megapixel_phone_photo(api_client):
    data = enlarged_jpeg(read_testdata(BIRD_PHOTO))
    body = post_image(api_client, data, "IMG_0001.JPG").json()
    assert body["species"][0]["label"] == "flamingo"


def test_it_decides_by_content_not_by_the_clients_content_type(api_client):
    data = skimage_photo("chelsea.png")
    body = post_image(api_client, data, "cat.png", content_type="text/plain").json()
    assert body["top_class"]["label"] in CAT_CLASSES


# --- Bad input: a clear error, the right status, nothing left behind ------------------
# These check the wording of a few messages; every kind of hostile file and request,
# through every upload endpoint, is tested against a real server in tests/stack/.


def test_it_asks_for_the_image_field(api_client, no_files_left_behind):
    response = api_client.post(URL, {"photo": SimpleUploadedFile("a.jpg", b"x")})
    body = assert_error(response, 400, "missing_image")
    assert "image" in body["message"]


def test_it_rejects_an_extension_that_contradicts_the_content(api_client, no_files_left_behind):
    jpeg = reencode(skimage_photo("chelsea.png"), "JPEG")
    body = assert_error(post_image(api_client, jpeg, "cat.png"), 415, "extension_mismatch")
    assert ".png" in body["message"]


def test_it_rejects_a_file_over_the_size_limit(api_client, settings, no_files_left_behind):
    settings.MAX_UPLOAD_BYTES = 100_000
    data = enlarged_jpeg(skimage_photo("chelsea.png"), size=(1200, 900))
    assert len(data) > settings.MAX_UPLOAD_BYTES
    body = assert_error(post_image(api_client, data, "big.jpg"), 413, "too_large")
    assert "MB" in body["message"]


def test_it_keeps_serving_after_bad_input(api_client):
    post_image(api_client, b"", "empty.jpg")
    post_image(api_client, decompression_bomb_png(), "bomb.png")
    post_image(api_client, b"not an image", "x.jpg")
    response = post_image(api_client, skimage_photo("chelsea.png"), "cat.png")
    assert response.status_code == 200


def test_it_answers_503_when_the_model_cannot_be_loaded(api_client, missing_model):
    response = post_image(api_client, skimage_photo("chelsea.png"), "cat.png")
    body = assert_error(response, 503, "model_unavailable")
    assert "export_onnx" in body["message"]


def test_a_crash_is_a_json_500_without_its_details(api_client, monkeypatch):
    def crash(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("classifier.api.classify_photo", crash)
    api_client.raise_request_exception = False
    response = post_image(api_client, skimage_photo("chelsea.png"), "cat.png")
    body = assert_error(response, 500, "internal_error")
    assert "secret" not in body["message"]
