"""autograder/results.py and results.schema.json: how each ending of a check is scored,
and a schema strict enough to catch a misspelt key or a wrong type."""

import copy
import json

import pytest
from jsonschema import Draft202012Validator

from autograder.results import (
    GRADER_FAILED,
    CheckResult,
    Outcome,
    clipped,
    grader_error_output,
    load_schema,
    results_json,
    write_results,
)
from tests.autograder.valid import assert_valid_results

pytestmark = pytest.mark.database_independent

RESULTS = [
    CheckResult("Health", 2, Outcome.PASSED, "ok", ("http",), 0.2),
    CheckResult("Bucket is private", 3, Outcome.WRONG, "Expected ...; found ...", ("aws",)),
    CheckResult("Classify", 5, Outcome.GRADER_ERROR, grader_error_output("boom", "Trace")),
]


def test_each_ending_is_scored_as_the_docs_say():
    results = results_json(RESULTS, execution_seconds=12.6)
    assert_valid_results(results)
    health, bucket, classify = results["tests"]
    assert (health["number"], health["score"], health["max_score"]) == ("1", 2, 2)
    assert (bucket["score"], bucket["max_score"], bucket["status"]) == (0, 3, "failed")
    assert (classify["score"], classify["max_score"], classify["status"]) == (0, 0, "failed")
    assert classify["output"] == f"{GRADER_FAILED}\n\nboom\n\nTrace"
    assert classify["tags"] == ["grader-error"]
    assert results["score"] == 2
    assert results["execution_time"] == 13
    assert results["extra_data"] == {
        "grader_errors": 1,
        "points_not_checked": 5,
        "checks": [
            {"name": "Health", "outcome": "passed", "seconds": 0.2},
            {"name": "Bucket is private", "outcome": "wrong", "seconds": 0.0},
            {"name": "Classify", "outcome": "grader_error", "seconds": 0.0},
        ],
    }
    assert results["output"].startswith("THE GRADER FAILED on 1 of 3 checks (Classify)")


def test_without_grader_errors_the_output_starts_with_the_score():
    results = results_json(RESULTS[:2], execution_seconds=1)
    assert results["output"].startswith("Score: 2 of the 5 points checked.")
    assert "To fix: Bucket is private." in results["output"]


@pytest.mark.parametrize(
    ("spoil", "complaint"),
    [
        (lambda r: r.update(scroe=r.pop("score")), "'score' is a required property"),
        (lambda r: r["tests"][0].update(max_scroe=1), "'max_scroe' was unexpected"),
        (lambda r: r.update(score="2"), "'2' is not of type 'number'"),
        (lambda r: r["tests"][0].update(number=1), "1 is not of type 'string'"),
        (lambda r: r["tests"][0].update(status="ok"), "'ok' is not one of"),
        (lambda r: r.update(visibility="public"), "'public' is not one of"),
        (lambda r: r.update(stdout_visibility=True), "True is not one of"),
        (lambda r: r["tests"][0].update(tags="http"), "'http' is not of type 'array'"),
        (lambda r: r.update(execution_time=1.5), "1.5 is not of type 'integer'"),
        (lambda r: r["extra_data"].update(grader_error=1), "'grader_error' was unexpected"),
        (lambda r: r["tests"][1].pop("output"), "'output' is a required property"),
        (lambda r: r["tests"][0].update(score=-1), "-1 is less than the minimum of 0"),
    ],
)
def test_the_schema_catches_misspelt_keys_and_wrong_types(spoil, complaint):
    results = copy.deepcopy(results_json(RESULTS, execution_seconds=1))
    spoil(results)
    messages = [error.message for error in Draft202012Validator(load_schema()).iter_errors(results)]
    assert any(complaint in message for message in messages), messages


def test_the_schema_allows_what_gradescopes_specification_allows():
    results = results_json(RESULTS, execution_seconds=1)
    results["test_name_format"] = "md"
    results["leaderboard"] = [{"name": "p95 ms", "value": 180, "order": "asc"}]
    results["tests"][0].update(name_format="text", output_format="md", extra_data={})
    results["tests"][0]["number"] = "1.2"
    assert list(Draft202012Validator(load_schema()).iter_errors(results)) == []


def test_a_runaway_output_keeps_its_start_and_its_end():
    text = "Expected a 200. " + "x" * 50_000 + " ValueError: the end"
    short = clipped(text, most=1000)
    assert len(short) < 1100
    assert short.startswith("Expected a 200.")
    assert short.endswith("ValueError: the end")
    assert "characters cut" in short


def test_results_json_is_replaced_whole(tmp_path):
    path = tmp_path / "results" / "out.json"  # not results.json: these are not results
    write_results({"first": 1}, path)
    write_results({"second": 2}, path)
    assert json.loads(path.read_text()) == {"second": 2}
    assert [p.name for p in path.parent.iterdir()] == ["out.json"]
