"""How starter-check judges what the autograder said of a starter's running app
(tooling/starter/grading.py): results.json made by the grader's own code, with messages
the grader gives a starter, and each way it can fall short of issue #17's item 4."""

import pytest

from autograder.results import CheckResult, Outcome, grader_error_output, load_schema, results_json
from tooling.starter.grading import MAX_SCORE_SHARE, GradingWrong, judge, not_actionable
from tooling.starter.markers import ASSIGNMENTS

pytestmark = pytest.mark.database_independent

# What the grader says of starter 1 (scripts/starter-check, 2026-12-03).
CLASSIFY_500 = (
    "Classifying birds/pink_flamingo.png should answer 200 with the classification: POST "
    'http://127.0.0.1:8000/api/v1/classify answered 500: \'{"error": "internal_error"}\''
)
NO_SERVED_BY = (
    "20 requests for /healthz should be answered by at least 2 app servers (their "
    "X-Served-By headers); they carried no X-Served-By header. Run two or more app servers "
    "behind the load balancer, each with its own APP_SERVER_NAME (docs/scaling.md)."
)
UPLOAD_404 = (
    "Not checked: it needs user A's photo uploaded to the history, which failed: Uploading "
    "a JPEG with GPS data to the history failed: POST http://127.0.0.1:8000/api/v1/"
    "submissions answered 404. Expected 201 with the submission (README, 'The API')."
)

SERVED_BY_THE_APP = (  # starter 3's: it has no S3 or CloudFront on scripts/run
    "The stored photo should come through the CDN, from a host of its own; the upload "
    "answered a link served by the app itself (/media/submissions/1/x.jpg): each photo then "
    "costs an app server a request. See docs/s3-cloudfront.md: AWS_S3_CUSTOM_DOMAIN."
)


def starter_results(*extra: CheckResult) -> dict:
    return results_json(
        [
            CheckResult("Health and readiness", 2, Outcome.PASSED, "/healthz answers 200"),
            CheckResult("Classify a known bird", 2, Outcome.WRONG, CLASSIFY_500),
            CheckResult("Several app servers answer", 2, Outcome.WRONG, NO_SERVED_BY),
            CheckResult("History list and detail", 2, Outcome.WRONG, UPLOAD_404),
            *extra,
        ],
        execution_seconds=4.2,
    )


def test_a_low_score_with_actionable_messages_and_no_grader_error_passes():
    grade = judge(starter_results(), load_schema(), 1 / 3)

    assert (grade.score, grade.maximum, grade.checks) == (2, 8, 4)
    assert grade.failed == [
        "Classify a known bird",
        "Several app servers answer",
        "History list and detail",
    ]
    assert grade.summary().startswith("2 / 8 points, 3 of 4 checks failed: Classify a known")


def test_a_grader_error_fails_the_check_and_is_named():
    crashed = CheckResult(
        "Bad input gets a 4xx",
        2,
        Outcome.GRADER_ERROR,
        grader_error_output("The check itself raised an exception:", "Traceback ...KeyError"),
    )

    with pytest.raises(GradingWrong, match=r"1 grader error\(s\): Bad input gets a 4xx"):
        judge(starter_results(crashed), load_schema(), 1 / 3)


def test_a_score_over_a_third_of_the_points_fails_the_check():
    passing = [CheckResult(f"Passes {n}", 2, Outcome.PASSED, "fine") for n in range(3)]

    with pytest.raises(GradingWrong, match="scored 8 of 14: this starter must score at most 33%"):
        judge(starter_results(*passing), load_schema(), 1 / 3)


def test_results_that_do_not_follow_the_schema_fail_the_check():
    results = starter_results()
    results["tests"][0]["max_scor"] = results["tests"][0].pop("max_score")

    with pytest.raises(GradingWrong, match=r"does not follow the schema(.|\n)*max_scor"):
        judge(results, load_schema(), 1 / 3)


@pytest.mark.parametrize(
    ("message", "lacks"),
    [
        ("", "is under 40 characters"),
        ("Classify: 500. docs/classifier.md", "is under 40 characters"),
        (CLASSIFY_500 + '\nTraceback (most recent call last):\n  File "x.py", line 3, in f',
         "holds a Python traceback"),
        ("POST /api/v1/classify answered 500: the classifier is broken today.",
         "does not say what was expected"),
        ("POST /api/v1/classify should answer 200 with the classification; it did not.",
         "does not say what came back"),
        ("The classification should name a flamingo; this deployment answered 'ostrich'.",
         "names no endpoint, setting or file"),
    ],
)  # fmt: skip
def test_a_message_that_does_not_help_a_student_fails_the_check(message, lacks):
    assert lacks in not_actionable(message)
    failing = CheckResult("Classify a known non-bird", 2, Outcome.WRONG, message)
    with pytest.raises(GradingWrong, match="'Classify a known non-bird': its message"):
        judge(starter_results(failing), load_schema(), 1 / 3)


@pytest.mark.parametrize("message", [CLASSIFY_500, NO_SERVED_BY, UPLOAD_404, SERVED_BY_THE_APP])
def test_the_graders_messages_to_a_starter_are_actionable(message):
    assert not_actionable(message) == ""


def test_every_starter_has_a_bound_below_the_maximum():
    assert sorted(MAX_SCORE_SHARE) == sorted(ASSIGNMENTS)
    assert all(0 < share < 1 for share in MAX_SCORE_SHARE.values())
