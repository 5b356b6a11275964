"""What the real model says about real photos (the onnx backend, as served)."""

import pytest
from django.conf import settings

from classifier.images import decode_image
from tooling.photos import skimage_photo


def classify_skimage_photo(classifier, name: str):
    image = decode_image(skimage_photo(name), filename=name, max_pixels=settings.MAX_IMAGE_PIXELS)
    return classifier.classify(image)


def test_it_sees_a_tiger_cat_not_a_bird_in_chelsea(onnx_classifier):
    prediction = classify_skimage_photo(onnx_classifier, "chelsea.png")
    assert not prediction.is_bird
    assert prediction.bird_probability < 0.01
    assert prediction.top_class.label == "tiger cat"  # ImageNet's striped-cat class


def test_it_sees_an_espresso_not_a_bird_in_coffee(onnx_classifier):
    prediction = classify_skimage_photo(onnx_classifier, "coffee.png")
    assert not prediction.is_bird
    assert prediction.top_class.label == "espresso"
    assert prediction.top_class.probability > 0.9


def test_it_calls_every_bird_photo_a_bird_and_names_it(onnx_classifier, bird_photos):
    birds = [row for row in bird_photos if row["is_bird"] == "yes"]
    assert len(birds) == 10
    for row in birds:
        prediction = onnx_classifier.classify(row["image"])
        species = [entry.label for entry in prediction.species]
        assert prediction.is_bird, row["file"]
        assert species[0] == row["class"], (row["file"], species)


def test_it_calls_no_other_animal_a_bird(onnx_classifier, bird_photos):
    others = [row for row in bird_photos if row["is_bird"] == "no"]
    assert len(others) == 4  # a tiger, a zebra, a koala, an otter
    for row in others:
        prediction = onnx_classifier.classify(row["image"])
        assert not prediction.is_bird, row["file"]
        assert prediction.top_class.label == row["class"], row["file"]


def test_it_reports_absolute_probabilities(onnx_classifier, bird_photos):
    flamingo = next(row for row in bird_photos if row["class"] == "flamingo")
    prediction = onnx_classifier.classify(flamingo["image"])
    assert len(prediction.species) == 5
    shares = [entry.probability for entry in prediction.species]
    assert shares == sorted(shares, reverse=True)
    assert sum(shares) <= prediction.bird_probability + 1e-9
    assert prediction.top_class == prediction.species[0]


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_it_says_which_model_and_backend_answered(request, backend):
    classifier = request.getfixturevalue(f"{backend}_classifier")
    prediction = classify_skimage_photo(classifier, "coffee.png")
    assert prediction.as_dict()["model"] == {
        "name": settings.CLASSIFIER_MODEL_NAME,
        "backend": backend,
    }
    assert prediction.elapsed_ms > 0
