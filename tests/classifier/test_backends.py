"""classifier/backends.py: ONNX Runtime and PyTorch give the same answers; the export."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from django.core.management import call_command

from classifier.backends import (
    LOGIT_TOLERANCE,
    MODEL_NAME_KEY,
    NUM_CLASSES_KEY,
    OnnxBackend,
    write_atomically,
)
from classifier.images import decode_image, to_model_input
from shared.errors import ModelUnavailable
from tooling.photos import SKIMAGE_DATA, skimage_photo

pytestmark = pytest.mark.database_independent  # the model files and their answers: no database.

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def real_photo_batch(bird_photos) -> np.ndarray:
    """The 14 photos of tests/testdata/birds and two of scikit-image: a (16, 3, 224, 224) batch."""
    images = [row["image"] for row in bird_photos]
    for name in ("chelsea.png", "coffee.png"):
        images.append(decode_image(skimage_photo(name), filename=name, max_pixels=10**8))
    return np.concatenate([to_model_input(image) for image in images])


def test_it_gives_the_same_logits_on_both_backends(
    onnx_classifier, torch_classifier, real_photo_batch
):
    onnx_logits = onnx_classifier.backend.logits(real_photo_batch)
    torch_logits = torch_classifier.backend.logits(real_photo_batch)
    assert onnx_logits.shape == torch_logits.shape == (16, 1000)
    assert np.abs(onnx_logits - torch_logits).max() <= LOGIT_TOLERANCE


def test_it_gives_the_same_logits_one_photo_at_a_time(onnx_classifier, real_photo_batch):
    batched = onnx_classifier.backend.logits(real_photo_batch)
    one_by_one = np.concatenate(
        [onnx_classifier.backend.logits(x[np.newaxis]) for x in real_photo_batch]
    )
    assert np.abs(batched - one_by_one).max() <= LOGIT_TOLERANCE


def test_it_records_the_model_in_the_onnx_file(onnx_model, settings):
    metadata = onnxruntime.InferenceSession(onnx_model).get_modelmeta().custom_metadata_map
    assert metadata[MODEL_NAME_KEY] == settings.CLASSIFIER_MODEL_NAME
    assert metadata[NUM_CLASSES_KEY] == "1000"


def test_it_refuses_a_file_that_is_not_an_onnx_model(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"not a model")
    with pytest.raises(ModelUnavailable, match="not a usable ONNX model"):
        OnnxBackend(path, threads=1)


def test_it_opens_a_new_session_after_closing_it_for_a_fork(onnx_classifier, real_photo_batch):
    backend = onnx_classifier.backend
    before = backend.logits(real_photo_batch[:1])
    backend.close_session()  # what happens in the parent just before os.fork()
    assert backend._session is None
    assert np.array_equal(backend.logits(real_photo_batch[:1]), before)


def test_it_refuses_to_open_a_model_file_that_changed_since_start_up(onnx_model, tmp_path):
    # A worker opens the file later than the master that checked it against the labels.
    path = tmp_path / "model.onnx"
    path.write_bytes(onnx_model.read_bytes())
    backend = OnnxBackend(path, threads=1)
    other = onnx.load(path)
    for entry in other.metadata_props:
        if entry.key == NUM_CLASSES_KEY:
            entry.value = "200"
    onnx.save(other, path)

    backend.close_session()  # as before a fork
    with pytest.raises(ModelUnavailable, match="changed after start-up"):
        backend.logits(np.zeros((1, 3, 224, 224), dtype=np.float32))
    path.unlink()
    with pytest.raises(ModelUnavailable, match="not a usable ONNX model"):
        backend.logits(np.zeros((1, 3, 224, 224), dtype=np.float32))


def test_it_never_leaves_half_a_file(tmp_path, monkeypatch):
    destination = tmp_path / "models" / "model.onnx"
    write_atomically(destination, b"first")
    assert destination.read_bytes() == b"first"

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(destination, b"second, never complete")
    assert destination.read_bytes() == b"first"
    assert [path.name for path in destination.parent.iterdir()] == ["model.onnx"]


def test_it_exports_only_when_missing_if_asked(tmp_path, capsys):
    existing = tmp_path / "model.onnx"
    existing.write_bytes(b"an earlier export")
    call_command("export_onnx", "--output", str(existing), "--if-missing")
    assert existing.read_bytes() == b"an earlier export"
    assert "not exporting again" in capsys.readouterr().out


def test_it_serves_the_onnx_backend_without_importing_torch(onnx_model, settings):
    # torch costs hundreds of MB per process; the onnx path must not pull it in.
    script = f"""
import sys
from classifier.engine import build_classifier
from classifier.images import decode_image
classifier = build_classifier(
    backend="onnx", threads=1, weights=None, labels=None, onnx_path={str(onnx_model)!r},
    model_name={settings.CLASSIFIER_MODEL_NAME!r}, bird_threshold=0.5,
)
data = open({str(SKIMAGE_DATA / "coffee.png")!r}, "rb").read()
image = decode_image(data, filename="coffee.png", max_pixels=10**8)
print(classifier.classify(image).top_class.label)
print("torch" in sys.modules)
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "birdai.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["espresso", "False"]
