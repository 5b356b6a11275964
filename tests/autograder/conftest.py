"""Every results.json a test of the autograder leaves in its tmp_path is checked against
the schema after the test, whatever the test itself looked at."""

import json

import pytest

from tests.autograder.valid import assert_valid_results


@pytest.fixture(autouse=True)
def every_results_json_is_valid(tmp_path):
    yield
    for path in tmp_path.rglob("results.json"):
        assert_valid_results(json.loads(path.read_text()))
