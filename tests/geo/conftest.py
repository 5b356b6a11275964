"""Users of the location tests: two who own photos, and a member of staff."""

import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice")


@pytest.fixture
def bob():
    return get_user_model().objects.create_user("bob")


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("sam", is_staff=True)
