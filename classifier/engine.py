"""The classifier the app uses: an image in, a plain Prediction out.

    get_classifier().classify(image) -> Prediction

get_classifier() builds the classifier from settings on first use (see
docs/classifier.md for the CLASSIFIER_* settings). warm() builds it and runs one
inference ahead of the first request. gunicorn calls warm() in the master, whose
classifier the forked workers inherit, and again in each worker, which then opens its
own inference session: see "Fork safety" in backends.py.
"""

import pickle
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from PIL.Image import Image

from classifier.backends import MODEL_NAME_KEY, OnnxBackend, TorchBackend
from classifier.images import to_model_input
from classifier.labels import LabelFileError, LabelSet, load_labels
from shared.errors import ModelUnavailable

SPECIES_SHOWN = 5


@dataclass(frozen=True)
class LabelProbability:
    label: str
    probability: float


@dataclass(frozen=True)
class ModelInfo:
    name: str
    backend: str


@dataclass(frozen=True)
class Prediction:
    is_bird: bool
    bird_probability: float  # the probabilities of all bird classes, added up
    species: list[LabelProbability]  # the most likely bird classes, most likely first
    top_class: LabelProbability  # the most likely class overall, bird or not
    model: ModelInfo
    elapsed_ms: float  # preprocessing and inference

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, fields: dict) -> "Prediction":
        """The Prediction that as_dict() gave `fields` (as read back from JSON)."""
        return cls(
            is_bird=fields["is_bird"],
            bird_probability=fields["bird_probability"],
            species=[LabelProbability(**species) for species in fields["species"]],
            top_class=LabelProbability(**fields["top_class"]),
            model=ModelInfo(**fields["model"]),
            elapsed_ms=fields["elapsed_ms"],
        )


def prediction_from_logits(
    logits: np.ndarray,
    *,
    labels: LabelSet,
    bird_threshold: float,
    model: ModelInfo,
    elapsed_ms: float = 0.0,
) -> Prediction:
    """One image's logits -> Prediction. Probabilities are shares of the whole: a
    species at 0.30 means 30% of the model's belief, not 30% of the bird part."""
    # BEGIN SOLUTION 1 a1-top-labels
    probabilities = softmax(logits.astype(np.float64))
    bird_classes = np.array(labels.bird_classes, dtype=np.intp)
    bird_probability = float(probabilities[bird_classes].sum())
    likeliest_birds = bird_classes[np.argsort(-probabilities[bird_classes], kind="stable")]

    def labelled(index: int) -> LabelProbability:
        return LabelProbability(labels.names[index], float(probabilities[index]))

    return Prediction(
        is_bird=bird_probability >= bird_threshold,
        bird_probability=bird_probability,
        species=[labelled(index) for index in likeliest_birds[:SPECIES_SHOWN]],
        top_class=labelled(int(np.argmax(probabilities))),
        model=model,
        elapsed_ms=elapsed_ms,
    )
    # END SOLUTION a1-top-labels
    # BEGIN STUB a1-top-labels
    # raise NotImplementedError(
    #     "TODO (assignment 1): turn one image's logits into a Prediction: softmax "
    #     "probabilities, bird_probability (the sum over labels.bird_classes) against "
    #     "bird_threshold, the SPECIES_SHOWN likeliest birds and the top class overall. "
    #     "Read docs/classifier.md, 'Labels and what a prediction means'."
    # )
    # END STUB a1-top-labels


def softmax(logits: np.ndarray) -> np.ndarray:
    # BEGIN SOLUTION 1 a1-softmax
    exponentials = np.exp(logits - logits.max())  # minus the max: no overflow
    return exponentials / exponentials.sum()
    # END SOLUTION a1-softmax
    # BEGIN STUB a1-softmax
    # raise NotImplementedError(
    #     "TODO (assignment 1): the softmax of the logits, without overflow for large "
    #     "ones. Read docs/classifier.md, 'Labels and what a prediction means'."
    # )
    # END STUB a1-softmax


class Classifier:
    def __init__(
        self,
        *,
        backend: OnnxBackend | TorchBackend,
        labels: LabelSet,
        bird_threshold: float,
        model_name: str,
    ) -> None:
        if len(labels) != backend.num_classes:
            raise ModelUnavailable(
                f"The label set has {len(labels)} names, but the model has "
                f"{backend.num_classes} classes. Set CLASSIFIER_LABELS to the label file "
                "that belongs to CLASSIFIER_WEIGHTS."
            )
        self.backend = backend
        self.labels = labels
        self.bird_threshold = bird_threshold
        self.model = ModelInfo(name=model_name, backend=backend.name)

    def classify(self, image: Image) -> Prediction:
        started = time.perf_counter()
        logits = self.backend.logits(to_model_input(image))[0]
        elapsed_ms = (time.perf_counter() - started) * 1000
        return prediction_from_logits(
            logits,
            labels=self.labels,
            bird_threshold=self.bird_threshold,
            model=self.model,
            elapsed_ms=elapsed_ms,
        )

    def warm_up(self) -> None:
        self.backend.warm_up()


def build_classifier(
    *,
    backend: str,
    threads: int,
    weights: str | Path | None,
    labels: str | Path | None,
    onnx_path: str | Path,
    model_name: str,
    bird_threshold: float,
) -> Classifier:
    """A Classifier from explicit settings; ModelUnavailable says what is wrong."""
    try:
        label_set = load_labels(labels)
        if backend == "torch":
            model_backend = TorchBackend(weights, threads=threads)
        else:
            model_backend = load_onnx_backend(Path(onnx_path), threads, model_name)
    except (OSError, ValueError, RuntimeError, pickle.UnpicklingError) as error:
        what = "label file" if isinstance(error, LabelFileError) else f"{backend} model"
        raise ModelUnavailable(f"The {what} could not be loaded: {error}") from error
    return Classifier(
        backend=model_backend,
        labels=label_set,
        bird_threshold=bird_threshold,
        model_name=model_name,
    )


def load_onnx_backend(onnx_path: Path, threads: int, model_name: str) -> OnnxBackend:
    if not onnx_path.exists():
        raise ModelUnavailable(
            f"There is no ONNX model at {onnx_path}. Create it with "
            "`python manage.py export_onnx` (or set CLASSIFIER_BACKEND=torch)."
        )
    backend = OnnxBackend(onnx_path, threads=threads)
    exported_name = backend.metadata.get(MODEL_NAME_KEY)
    if exported_name != model_name:
        raise ModelUnavailable(
            f"{onnx_path} was exported from the model {exported_name!r}, but "
            f"CLASSIFIER_MODEL_NAME is {model_name!r}. Run `python manage.py export_onnx` "
            "again after changing the model."
        )
    return backend


def classifier_from_settings() -> Classifier:
    return build_classifier(
        backend=settings.CLASSIFIER_BACKEND,
        threads=settings.CLASSIFIER_THREADS,
        weights=settings.CLASSIFIER_WEIGHTS or None,
        labels=settings.CLASSIFIER_LABELS or None,
        onnx_path=settings.CLASSIFIER_ONNX_PATH,
        model_name=settings.CLASSIFIER_MODEL_NAME,
        bird_threshold=settings.CLASSIFIER_BIRD_THRESHOLD,
    )


_classifier: Classifier | None = None
_classifier_lock = threading.Lock()


def get_classifier() -> Classifier:
    """The process's classifier, built on first use. Concurrent first calls build it once."""
    global _classifier
    if _classifier is None:  # the lock is only needed until the classifier exists
        with _classifier_lock:
            if _classifier is None:
                _classifier = classifier_from_settings()
    return _classifier


def warm() -> None:
    """Build the classifier and run one inference now, so the first request is not slow."""
    get_classifier().warm_up()


@receiver(setting_changed)
def forget_classifier(*, setting: str, **kwargs) -> None:
    # Tests change settings with override_settings(); the next call rebuilds.
    global _classifier
    if setting.startswith("CLASSIFIER_"):
        with _classifier_lock:
            _classifier = None
