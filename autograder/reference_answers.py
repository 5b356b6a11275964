"""What the reference deployment answers for the photos the classify checks send:
written once to reference_answers.json, which the checks read (and the zip carries).

    scripts/stack up
    .venv/bin/python -m autograder.reference_answers \
        --url "$(scripts/stack status --json | jq -r .base_url)"

Run it again after changing the model, its labels or the photos below, and commit the
file with the change: a student's deployment is then graded against the new answers.
"""

import argparse
import json
from pathlib import Path

from autograder.http_client import Client
from autograder.photos import read_testdata

OUTPUT = Path(__file__).parent / "reference_answers.json"
# One photo of a bird and one of another animal (tests/testdata/birds/, real photos).
PHOTOS = {"bird": "birds/pink_flamingo.png", "not_bird": "birds/tiger.png"}
COMMAND = (
    "scripts/stack up && .venv/bin/python -m autograder.reference_answers "
    '--url "$(scripts/stack status --json | jq -r .base_url)"'
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the reference deployment")
    arguments = parser.parse_args(argv)
    client = Client(arguments.url)
    answers = {}
    model = None
    for which, photo in PHOTOS.items():
        answer = client.post(
            "/api/v1/classify", files={"image": (Path(photo).name, read_testdata(photo))}
        )
        if answer.status != 200:
            raise SystemExit(answer.describe())
        body = answer.json()
        model = body["model"]
        answers[which] = {
            "photo": photo,
            "is_bird": body["is_bird"],
            "top_class": body["top_class"]["label"],
            "bird_probability": round(body["bird_probability"], 3),
        }
    written = {"command": COMMAND, "model": model, "photos": answers}
    OUTPUT.write_text(json.dumps(written, indent=2) + "\n")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
