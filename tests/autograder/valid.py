"""What every results.json must be: valid against autograder/results.schema.json, and
its numbers adding up (which a JSON Schema cannot say)."""

from jsonschema import Draft202012Validator

from autograder.results import load_schema

VALIDATOR = Draft202012Validator(load_schema())


def assert_valid_results(results: dict) -> None:
    errors = [f"{list(error.path)}: {error.message}" for error in VALIDATOR.iter_errors(results)]
    assert not errors, "results.json does not follow the schema:\n" + "\n".join(errors)
    tests = results["tests"]
    assert results["score"] == sum(test["score"] for test in tests)
    for test in tests:  # a check is all or nothing
        if test["status"] == "passed":
            assert test["score"] == test["max_score"]
            assert "grader-error" not in test["tags"]
        else:
            assert test["score"] == 0, test
    errors = [test for test in tests if "grader-error" in test["tags"]]
    assert results["extra_data"]["grader_errors"] == len(errors)
    assert all(test["max_score"] == 0 for test in errors)
    if errors:
        assert results["output"].startswith("THE GRADER FAILED")
    assert [check["name"] for check in results["extra_data"]["checks"]] == [
        test["name"] for test in tests
    ]
