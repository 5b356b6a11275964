#!/usr/bin/env python
"""Picks CLASSIFIER_BIRD_THRESHOLD from real photos, for the configured model.

    .venv/bin/python scripts/calibrate_threshold.py [MORE_PHOTO_FOLDERS...]
    CLASSIFIER_BACKEND=torch .venv/bin/python scripts/calibrate_threshold.py   # no export needed

It classifies the repository's photos (tests/testdata/birds: ten birds, four other
animals), the photographs that scikit-image ships (none of them a bird) and those of any
folder named on the command line that has a MANIFEST.csv with the columns file, class and
is_bird (yes/no), such as ImageNet samples you may use, e.g. ../shared/testdata/birds.
It prints every photo's bird probability and proposes a threshold by this rule:

    halfway, in log-odds, between the highest-scoring non-bird and the
    lowest-scoring bird.

Log-odds, log(p / (1 - p)), because probabilities crowd together near 0 and 1: 0.01 and
0.05 are as far apart to the model as 0.5 and 0.84. If the two groups overlap, the
threshold that misclassifies the fewest photos is proposed instead, and the script says so.
Run it again after swapping in another model: its probabilities have another spread.
"""

import csv
import math
import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "birdai.settings")

import django  # noqa: E402 - needs the settings module chosen above

django.setup()


from classifier.engine import get_classifier  # noqa: E402
from classifier.images import decode_image  # noqa: E402
from tooling.photos import SKIMAGE_DATA, TESTDATA_DIR  # noqa: E402

# The photographs among scikit-image's sample images (not its drawings or test charts).
SKIMAGE_PHOTOS = {
    "astronaut.png": "astronaut",
    "brick.png": "brick wall",
    "camera.png": "cameraman",
    "cell.png": "cell, microscope",
    "chelsea.png": "cat",
    "clock_motion.png": "clock, motion-blurred",
    "coffee.png": "coffee cup",
    "coins.png": "coins",
    "grass.png": "grass",
    "gravel.png": "gravel",
    "hubble_deep_field.jpg": "Hubble deep field",
    "ihc.png": "tissue, microscope",
    "moon.png": "moon surface",
    "motorcycle_left.png": "motorcycle",
    "page.png": "scanned page",
    "retina.jpg": "retina",
    "rocket.jpg": "rocket",
    "text.png": "text on a sign",
}


def photos(folders: list[Path]) -> list[tuple[str, Path, bool]]:
    """(description, path, is_bird) for every calibration photo."""
    found = []
    for folder in folders:
        with open(folder / "MANIFEST.csv", newline="") as manifest:
            for row in csv.DictReader(manifest):
                description = f"{row['class']} ({folder.parent.parent.name}/{folder.name})"
                found.append((description, folder / row["file"], row["is_bird"] == "yes"))
    for file, description in SKIMAGE_PHOTOS.items():
        found.append((f"{description} (scikit-image)", SKIMAGE_DATA / file, False))
    return found


def log_odds(probability: float) -> float:
    probability = min(max(probability, 1e-9), 1 - 1e-9)
    return math.log(probability / (1 - probability))


def from_log_odds(value: float) -> float:
    return 1 / (1 + math.exp(-value))


def propose_threshold(scores: list[tuple[float, bool]]) -> tuple[float, str]:
    bird_scores = [score for score, is_bird in scores if is_bird]
    other_scores = [score for score, is_bird in scores if not is_bird]
    if not bird_scores or not other_scores:
        raise SystemExit("Need photos of birds and of other things to calibrate.")
    lowest_bird, highest_other = min(bird_scores), max(other_scores)
    if highest_other < lowest_bird:
        middle = (log_odds(highest_other) + log_odds(lowest_bird)) / 2
        return from_log_odds(middle), (
            f"halfway in log-odds between the highest non-bird ({highest_other:.4f}) "
            f"and the lowest bird ({lowest_bird:.4f})"
        )

    def errors(threshold: float) -> int:
        return sum((score >= threshold) != is_bird for score, is_bird in scores)

    candidates = sorted(score for score, _ in scores)
    best = min(candidates, key=errors)
    return best, f"the groups overlap; this threshold misclassifies {errors(best)} photos"


def main() -> None:
    classifier = get_classifier()
    print(f"Model {classifier.model.name} on the {classifier.model.backend} backend\n")
    results = []
    folders = [TESTDATA_DIR / "birds", *(Path(folder) for folder in sys.argv[1:])]
    for description, path, is_bird in photos(folders):
        image = decode_image(path.read_bytes(), filename=path.name, max_pixels=10**9)
        prediction = classifier.classify(image)
        results.append((prediction.bird_probability, is_bird, description, prediction))

    print(f"{'photo':38} {'bird?':6} {'bird probability':>16}  top class")
    for score, is_bird, description, prediction in sorted(results, key=lambda r: r[0]):
        top = prediction.top_class
        print(
            f"{description:38} {'yes' if is_bird else 'no':6} {score:16.4f}  "
            f"{top.label} ({top.probability:.2f})"
        )

    threshold, reason = propose_threshold([(score, is_bird) for score, is_bird, *_ in results])
    current = classifier.bird_threshold
    wrong_now = sum((score >= current) != is_bird for score, is_bird, *_ in results)
    print(f"\nProposed CLASSIFIER_BIRD_THRESHOLD={threshold:.2f}: {reason}.")
    print(f"The current threshold, {current}, misclassifies {wrong_now} of {len(results)} photos.")


if __name__ == "__main__":
    main()
