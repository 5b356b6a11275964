"""The grader's reading of a photo's metadata (autograder/photos.py) over tooling/photos.py's
walk of the JPEG header: it finds the comment the load test puts there."""

import pytest

from autograder.photos import inspect
from tooling.loadtest.photos import with_comment
from tooling.photos import bird_jpeg

pytestmark = pytest.mark.database_independent


def test_the_grader_finds_the_load_tests_comment():
    photo = bird_jpeg()
    assert inspect(photo).metadata == []
    assert inspect(with_comment(photo, b"birdai load test 1234")).metadata == ["a comment"]
