"""classifier/engine.py: logits -> Prediction, and the per-process classifier."""

import json
import threading
import time

import numpy as np
import pytest

from classifier import engine
from classifier.engine import (
    Classifier,
    ModelInfo,
    build_classifier,
    get_classifier,
    prediction_from_logits,
    softmax,
    warm,
)
from classifier.labels import LabelSet
from shared.errors import ModelUnavailable

MODEL = ModelInfo(name="test-model", backend="onnx")
# Seven classes, three of them birds, with probabilities that are easy to add up.
LABELS = LabelSet(
    names=("cat", "sparrow", "cup", "wren", "robin", "car", "owl toy"), bird_classes=(1, 3, 4)
)
PROBABILITIES = np.array([0.30, 0.10, 0.05, 0.20, 0.05, 0.25, 0.05])


def predict(probabilities=PROBABILITIES, labels=LABELS, bird_threshold=0.5):
    logits = np.log(probabilities) + 3.0  # softmax ignores the constant
    return prediction_from_logits(logits, labels=labels, bird_threshold=bird_threshold, model=MODEL)


def test_softmax_gives_shares_of_one_even_for_logits_too_large_to_exponentiate():
    # np.exp(1000.0) is inf: computed naively, these would be nan.
    shares = softmax(np.array([1000.0, 1000.0, 0.0]))
    assert shares == pytest.approx([0.5, 0.5, 0.0])
    small = np.array([0.5, -1.0, 2.0])
    assert softmax(small) == pytest.approx(np.exp(small) / np.exp(small).sum())


def test_it_adds_up_the_bird_classes():
    assert predict().bird_probability == pytest.approx(0.35)


def test_it_calls_it_a_bird_from_the_threshold_up():
    assert predict(bird_threshold=0.35).is_bird
    assert not predict(bird_threshold=0.36).is_bird


def test_it_lists_the_bird_species_most_likely_first_with_absolute_probabilities():
    species = [(entry.label, round(entry.probability, 6)) for entry in predict().species]
    assert species == [("wren", 0.2), ("sparrow", 0.1), ("robin", 0.05)]


def test_it_lists_at_most_five_species():
    labels = LabelSet(names=tuple(f"bird {n}" for n in range(8)), bird_classes=tuple(range(8)))
    prediction = predict(np.full(8, 1 / 8), labels)
    assert len(prediction.species) == 5


def test_it_names_the_top_class_even_when_it_is_no_bird():
    top = predict().top_class
    assert (top.label, round(top.probability, 6)) == ("cat", 0.3)


def test_it_calls_everything_a_bird_when_every_class_is_one():
    labels = LabelSet(names=LABELS.names, bird_classes=tuple(range(7)))
    prediction = predict(labels=labels, bird_threshold=0.99)
    assert prediction.bird_probability == pytest.approx(1.0)
    assert prediction.is_bird


def test_it_answers_in_plain_json_types():
    answer = predict().as_dict()
    assert json.loads(json.dumps(answer)) == answer
    assert type(answer["is_bird"]) is bool
    assert type(answer["bird_probability"]) is float
    assert answer["model"] == {"name": "test-model", "backend": "onnx"}


def test_it_refuses_labels_that_do_not_match_the_model(onnx_classifier):
    with pytest.raises(ModelUnavailable, match="7 names, but the model has 1000 classes"):
        Classifier(
            backend=onnx_classifier.backend, labels=LABELS, bird_threshold=0.5, model_name="x"
        )


# --- Building from settings ------------------------------------------------------------


def build(**overrides) -> Classifier:
    options = dict(
        backend="onnx",
        threads=1,
        weights=None,
        labels=None,
        onnx_path="",
        model_name="efficientnet-lite0-imagenet",
        bird_threshold=0.5,
    )
    return build_classifier(**{**options, **overrides})


def test_it_says_how_to_create_a_missing_onnx_model(tmp_path):
    with pytest.raises(ModelUnavailable, match=r"python manage\.py export_onnx"):
        build(onnx_path=tmp_path / "never-exported.onnx")


def test_it_notices_an_onnx_model_exported_from_another_model(onnx_model):
    with pytest.raises(ModelUnavailable, match=r"'efficientnet-lite0-cub200'.*export_onnx"):
        build(onnx_path=onnx_model, model_name="efficientnet-lite0-cub200")


def test_it_reports_a_bad_label_file(onnx_model, tmp_path):
    (tmp_path / "labels.json").write_text("{not json")
    with pytest.raises(ModelUnavailable, match="label file could not be loaded"):
        build(onnx_path=onnx_model, labels=tmp_path / "labels.json")


def test_it_reports_missing_torch_weights(tmp_path):
    with pytest.raises(ModelUnavailable, match="torch model could not be loaded"):
        build(backend="torch", weights=tmp_path / "missing.pth")


# --- One classifier per process --------------------------------------------------------


@pytest.fixture
def no_classifier_yet(monkeypatch):
    monkeypatch.setattr(engine, "_classifier", None)


def test_it_builds_the_classifier_once_for_all_threads(no_classifier_yet, monkeypatch):
    builds = []
    build_from_settings = engine.classifier_from_settings

    def slow_build():
        builds.append(threading.get_ident())
        time.sleep(0.2)  # wide open for a second thread to start a second build
        return build_from_settings()

    monkeypatch.setattr(engine, "classifier_from_settings", slow_build)
    start = threading.Barrier(8)
    results = []

    def first_request():
        start.wait()
        results.append(get_classifier())

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(builds) == 1
    assert len(results) == 8
    assert all(result is results[0] for result in results)


def test_it_rebuilds_when_a_classifier_setting_changes(settings):
    first = get_classifier()
    settings.CLASSIFIER_BIRD_THRESHOLD = 0.9
    second = get_classifier()
    assert second is not first
    assert second.bird_threshold == 0.9


def test_it_builds_the_backend_the_settings_name(settings):
    settings.CLASSIFIER_BACKEND = "torch"
    assert get_classifier().backend.name == "torch"
    assert get_classifier().model.backend == "torch"


def test_it_warms_up_the_classifier(no_classifier_yet):
    warm()
    assert engine._classifier is not None
