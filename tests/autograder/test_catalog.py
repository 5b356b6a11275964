"""The catalog's lists of checks (autograder/catalog.py): the staff's list without the
load test is the students' list, less that one check."""

import pytest

from autograder import catalog
from autograder.http_checks import LOAD_TEST_NAME

pytestmark = pytest.mark.database_independent


def names(checks) -> list[str]:
    return [check.name for check in checks]


@pytest.mark.parametrize("with_aws", [False, True])
def test_without_the_load_test_is_every_check_but_the_load_test_in_the_same_order(with_aws):
    every = names(catalog.checks(with_aws=with_aws))

    assert LOAD_TEST_NAME in every
    assert names(catalog.without_load_test(with_aws=with_aws)) == [
        name for name in every if name != LOAD_TEST_NAME
    ]
