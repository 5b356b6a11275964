"""Gradescope's results.json, from how each check ended.

The format is Gradescope's ("Autograder Specifications", Output format);
results.schema.json beside this file is that format narrowed to what this grader writes,
and the tests validate every results.json they produce against it.

How a check's ending is scored:

    passed        score = max_score = its points        status "passed"
    wrong         score 0, max_score = its points       status "failed", the message
    grader_error  score 0, max_score 0                  status "failed", GRADER_FAILED
                                                        first, then what happened and
                                                        the trace

A grader error is worth nothing either way: the student neither gains the points for a
check nobody made, nor loses them for the grader's failure; a regrade once the staff
have fixed the grader scores it (docs/autograder.md, "Grader errors").
"""

import json
import os
import tempfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

SCHEMA_PATH = Path(__file__).with_name("results.schema.json")
# Gradescope stores and shows each output; a runaway trace (a recursion, a page of HTML
# in an exception) is cut in the middle, keeping what it says first and how it ended.
MAX_OUTPUT_CHARS = 20_000
GRADER_FAILED = (
    "The grader failed here, not your submission: contact the course staff. "
    "This check costs you no points."
)


class Outcome(StrEnum):
    PASSED = "passed"
    WRONG = "wrong"  # the deployment is wrong: costs the check's points
    GRADER_ERROR = "grader_error"  # the grader could not decide: costs nothing


@dataclass(frozen=True)
class CheckResult:
    """How one check ended: its name, points and tags are the Check's."""

    name: str
    points: float
    outcome: Outcome
    output: str = ""
    tags: tuple[str, ...] = field(default=())
    seconds: float = 0.0


def grader_error_output(what_happened: str, trace: str = "") -> str:
    """A grader error's output: that it is the grader's failure comes first."""
    return "\n\n".join(part for part in (GRADER_FAILED, what_happened, trace.rstrip()) if part)


def gradescope_test(number: int, result: CheckResult) -> dict:
    """One of Gradescope's `tests`."""
    if result.outcome is Outcome.GRADER_ERROR:
        score, max_score, tags = 0, 0, (*result.tags, "grader-error")
    else:
        score = result.points if result.outcome is Outcome.PASSED else 0
        max_score, tags = result.points, result.tags
    return {
        "name": result.name,
        "number": str(number),
        "score": score,
        "max_score": max_score,
        "status": "passed" if result.outcome is Outcome.PASSED else "failed",
        "output": clipped(result.output),
        "tags": list(tags),
        "visibility": "visible",
    }


def clipped(text: str, most: int = MAX_OUTPUT_CHARS) -> str:
    if len(text) <= most:
        return text
    cut = f"\n\n[... {len(text) - most:,} characters cut ...]\n\n"
    head = most // 4
    return text[:head] + cut + text[-(most - head) :]


def summary(results: list[CheckResult], stopped_by: str = "", headline: str = "") -> str:
    """The top-level output: grader errors first, so nobody reads a low score as the
    student's before knowing the grader failed; then `headline` (why no check ran, if
    so) or the checks to fix."""
    errors = [result for result in results if result.outcome is Outcome.GRADER_ERROR]
    checked = [result for result in results if result.outcome is not Outcome.GRADER_ERROR]
    score = sum(result.points for result in checked if result.outcome is Outcome.PASSED)
    possible = sum(result.points for result in checked)
    lines = []
    if errors:
        names = ", ".join(result.name for result in errors)
        lines.append(
            f"THE GRADER FAILED on {len(errors)} of {len(results)} checks ({names}): "
            "the grader's failure, not your submission's. Those checks cost you no points "
            "and are not in the score below. Please contact the course staff; once they "
            "have fixed the grader, a regrade checks them."
        )
        if stopped_by:
            lines.append(f"The grader was stopped ({stopped_by}) before it finished.")
    if headline:
        lines.append(headline)
    lines.append(f"Score: {score:g} of the {possible:g} points checked.")
    wrong = [result.name for result in checked if result.outcome is Outcome.WRONG]
    if wrong and not headline:
        lines.append("To fix: " + "; ".join(wrong) + ". Each test below says what and where.")
    return "\n\n".join(lines)


def results_json(
    results: list[CheckResult],
    *,
    execution_seconds: float,
    stopped_by: str = "",
    headline: str = "",
) -> dict:
    """The whole of results.json."""
    tests = [gradescope_test(number, result) for number, result in enumerate(results, start=1)]
    errors = [result for result in results if result.outcome is Outcome.GRADER_ERROR]
    extra_data: dict = {
        "grader_errors": len(errors),
        "points_not_checked": sum(result.points for result in errors),
        "checks": [
            {"name": result.name, "outcome": str(result.outcome), "seconds": result.seconds}
            for result in results
        ],
    }
    if stopped_by:
        extra_data["stopped_by"] = stopped_by
    return {
        "score": sum(test["score"] for test in tests),
        "execution_time": max(0, round(execution_seconds)),
        "output": summary(results, stopped_by, headline),
        "output_format": "text",  # plain text: a trace or a message never turns into markup
        "test_output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",  # the grader's own log is for the staff
        "extra_data": extra_data,
        "tests": tests,
    }


def write_results(results: dict, path: Path) -> None:
    """Writes results.json whole or not at all: a reader (Gradescope, after a kill)
    finds the previous complete file or this one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".results-", suffix=".json")
    try:
        os.fchmod(handle, 0o644)  # mkstemp's 0600 would hide it from the staff's account
        with os.fdopen(handle, "w") as file:
            json.dump(results, file, indent=2)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())
