"""The autograder against a starter's running app (issue #17, item 4): a low score, each
failed check with a message a student can act on, and no grader error.

The starter carries no autograder (it is instructor-only), so the reference's runs it,
as a command (`python -m autograder --url`), against the app scripts/run serves from
the starter's clone. This module reads only what that command writes, results.json,
and the schema beside the grader's code: the generator imports none of the grader.

Without a slip there are no AWS checks (`--url` grades over HTTP only), and the bounded
load test is left out (`autograder.catalog:without_load_test`): against a starter it
would spend its 30 s proving again what the other checks said.
"""

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from jsonschema import Draft202012Validator

CHECKS = "autograder.catalog:without_load_test"
GRADER_SECONDS = 300  # the grader's own run is about 5 s against a starter
# "Well below the maximum": a starter whose students have written nothing gets at most
# this share of the points the grader checked. The grader grades the whole course, and
# each starter keeps the earlier assignments' solutions, so the share rises with the
# assignment. Measured on scripts/run with sign-up on (2026-12-03): starter 1 4 of 30,
# starter 2 10 of 30 (its upload stops at the EXIF TODO, and the 5 checks that need
# it), starter 3 23 of 30 (only the CDN, several app servers and the proxy cache fail:
# its TODOs are the N-tier stack, which scripts/run does not have).
MAX_SCORE_SHARE = {1: 1 / 3, 2: 1 / 2, 3: 0.8}

# A failed check's message is actionable when it is all of:
MIN_MESSAGE_CHARS = 40  # a sentence, not a word
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*File \".*\", line \d+", re.M)
# what was expected,
EXPECTED = re.compile(r"\b(should|expected|must|needs)\b", re.I)
# what came back (what the deployment answered, said or carried; a status after a colon,
# as in "POST /api/v1/classify: 500"),
CAME_BACK = re.compile(
    r"\b(answered|said|carried|got|failed|found|received|still has|looks)\b|: [1-5]\d\d\b"
)
# and where to act: an endpoint, a setting, or a file of the repository.
ENDPOINT = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE|HEAD) (/|https?://)")
SETTING = re.compile(r"\b[A-Z][A-Z0-9]*(_[A-Z0-9]+)+\b")
REPOSITORY_FILE = re.compile(r"\b[\w-]+(/[\w.-]+)*\.(py|md|html|template|conf|json|tf|yml)\b")


class GradingWrong(Exception):
    """What the grader said of the starter is not what item 4 asks for."""


@dataclass(frozen=True)
class Grade:
    score: float
    maximum: float
    checks: int
    failed: list[str]

    def summary(self) -> str:
        return (
            f"{self.score:g} / {self.maximum:g} points, {len(self.failed)} of {self.checks} "
            f"checks failed: {'; '.join(self.failed) or 'none'}"
        )


def grade_running_app(reference: Path, assignment: int, url: str, results: Path) -> Grade:
    """Runs the reference's autograder against starter `assignment`'s app at `url` and
    judges its results.json."""
    finished = subprocess.run(
        [str(reference / ".venv" / "bin" / "python"), "-m", "autograder", "--url", url,
         "--results", str(results), "--checks", CHECKS],
        cwd=reference, capture_output=True, text=True, timeout=GRADER_SECONDS, check=False,
    )  # fmt: skip
    if finished.returncode not in (0, 1) or not results.exists():  # 1: grader errors, below
        raise GradingWrong(
            f"the autograder ended with status {finished.returncode}:\n{finished.stderr[-2000:]}"
        )
    schema = json.loads((reference / "autograder" / "results.schema.json").read_text())
    return judge(json.loads(results.read_text()), schema, MAX_SCORE_SHARE[assignment])


def judge(results: dict, schema: dict, max_share: float) -> Grade:
    """The Grade of a results.json, or GradingWrong naming every problem."""
    problems = [
        f"results.json does not follow the schema at {list(error.path)}: {error.message}"
        for error in Draft202012Validator(schema).iter_errors(results)
    ]
    if problems:  # the rest would read fields that may not be there
        raise GradingWrong("\n  ".join(problems))
    extra = results["extra_data"]
    if extra["grader_errors"] or extra["points_not_checked"]:
        erred = [test["name"] for test in results["tests"] if "grader-error" in test["tags"]]
        problems.append(f"{extra['grader_errors']} grader error(s): {', '.join(erred)}")
    maximum = sum(test["max_score"] for test in results["tests"])
    if not maximum or results["score"] > max_share * maximum:
        problems.append(
            f"it scored {results['score']:g} of {maximum:g}: this starter must score at most "
            f"{max_share:.0%} of the points"
        )
    failed = [test for test in results["tests"] if test["status"] == "failed"]
    for test in failed:
        if "grader-error" in test["tags"]:
            continue  # said above; its output is the staff's trace, not a student's message
        missing = not_actionable(test["output"])
        if missing:
            problems.append(f"{test['name']!r}: its message {missing}: {test['output'][:300]!r}")
    if problems:
        raise GradingWrong("\n  ".join(problems))
    return Grade(results["score"], maximum, len(results["tests"]), [t["name"] for t in failed])


def not_actionable(message: str) -> str:
    """What a failed check's message lacks for a student to act on it ("" if nothing)."""
    if len(message.strip()) < MIN_MESSAGE_CHARS:
        return f"is under {MIN_MESSAGE_CHARS} characters"
    if TRACEBACK.search(message):
        return "holds a Python traceback"
    if not EXPECTED.search(message):
        return "does not say what was expected (should, expected, must, needs)"
    if not CAME_BACK.search(message):
        return "does not say what came back (what the deployment answered or said)"
    if not (ENDPOINT.search(message) or SETTING.search(message)
            or REPOSITORY_FILE.search(message)):  # fmt: skip
        return "names no endpoint, setting or file of the repository to look at"
    return ""
