"""Classifiers built once per test session: loading a model is the slow part."""

import csv

import pytest
from django.conf import settings

from classifier.engine import Classifier, build_classifier
from classifier.images import decode_image
from tooling.photos import TESTDATA_DIR


def classifier_for(backend: str, onnx_path) -> Classifier:
    return build_classifier(
        backend=backend,
        threads=2,
        weights=None,
        labels=None,
        onnx_path=onnx_path,
        model_name=settings.CLASSIFIER_MODEL_NAME,
        bird_threshold=settings.CLASSIFIER_BIRD_THRESHOLD,
    )


@pytest.fixture(scope="session")
def onnx_classifier(onnx_model) -> Classifier:
    return classifier_for("onnx", onnx_model)


@pytest.fixture(scope="session")
def torch_classifier(onnx_model) -> Classifier:
    return classifier_for("torch", onnx_model)


@pytest.fixture(scope="session")
def bird_photos() -> list[dict]:
    """tests/testdata/birds: MANIFEST.csv rows, each with its decoded image."""
    directory = TESTDATA_DIR / "birds"
    with open(directory / "MANIFEST.csv", newline="") as manifest:
        rows = list(csv.DictReader(manifest))
    for row in rows:
        data = (directory / row["file"]).read_bytes()
        row["image"] = decode(data, row["file"])
    return rows


def decode(data: bytes, filename: str | None = None):
    return decode_image(data, filename=filename, max_pixels=settings.MAX_IMAGE_PIXELS)


@pytest.fixture
def model_runs(monkeypatch) -> list[int]:
    """Counts the model's runs in this process: the real model still runs."""
    runs = []
    real_classify = Classifier.classify

    def counted(self, image):
        runs.append(1)
        return real_classify(self, image)

    monkeypatch.setattr(Classifier, "classify", counted)
    return runs
