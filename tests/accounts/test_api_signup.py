"""POST /api/v1/signup and POST /api/v1/token (accounts/signup_api.py): an account and a
token for scripts such as the course's autograder, off unless API_SIGNUP_ENABLED."""

import json

import pytest
from django.contrib.auth import get_user_model

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db

PASSWORD = "sparrow-in-the-rain-42"
SIGNUP, TOKEN = "/api/v1/signup", "/api/v1/token"


@pytest.fixture
def enabled(settings):
    settings.API_SIGNUP_ENABLED = True
    return settings


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice", password=PASSWORD)


def post(client, path: str, body, address: str = "127.0.0.1"):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(path, data, content_type="application/json", REMOTE_ADDR=address)


def assert_error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code, body
    return body["message"]


def me(client, token: str):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


# --- off by default ---------------------------------------------------------------------


@pytest.mark.parametrize("path", [SIGNUP, TOKEN])
def test_both_are_a_404_unless_the_setting_is_on(api_client, alice, path):
    response = post(api_client, path, {"username": "carol", "password": PASSWORD})
    assert_error(response, 404, "not_found")
    assert not get_user_model().objects.filter(username="carol").exists()
    assert not ApiToken.objects.exists()


# --- sign-up ---------------------------------------------------------------------------


def test_signing_up_makes_the_account_and_answers_a_working_token(api_client, enabled):
    response = post(api_client, SIGNUP, {"username": "carol", "password": PASSWORD})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["username"] == "carol"
    assert me(api_client, body["token"]).json()["username"] == "carol"
    assert get_user_model().objects.get(username="carol").check_password(PASSWORD)
    assert response["Cache-Control"] == "private, no-store"  # it holds a secret


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("password", "This password is too common."),
        ("short1x", "This password is too short."),
        ("4815162342", "This password is entirely numeric."),
        ("carol123", "The password is too similar to the username."),
    ],
)
def test_the_password_validators_refuse_a_weak_password(api_client, enabled, password, says):
    response = post(api_client, SIGNUP, {"username": "carol", "password": password})
    message = assert_error(response, 400, "invalid_signup")
    assert message.startswith("password: ")
    assert says in message
    assert message.count(says) == 1  # once, though the form checks two password fields
    assert not get_user_model().objects.filter(username="carol").exists()


def test_a_taken_name_in_any_letter_case_gets_the_forms_generic_message(api_client, enabled, alice):
    for name in ("alice", "ALICE"):
        response = post(api_client, SIGNUP, {"username": name, "password": PASSWORD})
        message = assert_error(response, 400, "invalid_signup")
        assert message == "username: This user name cannot be used. Please choose another one."
    assert get_user_model().objects.filter(username__iexact="alice").count() == 1
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"username": "carol"},
        {"password": PASSWORD},
        {"username": "", "password": PASSWORD},
        {"username": "carol", "password": ["not", "a", "string"]},
        {"username": "c" * 151, "password": PASSWORD},
        "{not json",
    ],
    ids=["no-password", "no-username", "empty-username", "list", "too-long", "not-json"],
)
def test_a_body_that_is_not_two_strings_is_a_400_and_makes_nothing(api_client, enabled, body):
    for path in (SIGNUP, TOKEN):
        assert_error(post(api_client, path, body), 400, "invalid_request")
    assert not get_user_model().objects.exists()


def test_a_user_name_with_characters_django_refuses_is_a_400(api_client, enabled):
    response = post(api_client, SIGNUP, {"username": "ca rol!", "password": PASSWORD})
    assert assert_error(response, 400, "invalid_signup").startswith("username: ")


def test_sign_ups_count_against_the_address_limit(api_client, enabled):
    enabled.SIGNUP_RATE_PER_ADDRESS = "2/d"  # a day: no window ends during the test
    weak = {"username": "carol", "password": "password"}
    # Refused sign-ups count too: a script testing names pays for each.
    assert post(api_client, SIGNUP, weak).status_code == 400
    assert post(api_client, SIGNUP, weak).status_code == 400
    response = post(api_client, SIGNUP, {"username": "carol", "password": PASSWORD})
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1
    assert not get_user_model().objects.filter(username="carol").exists()
    # Another address has its own count.
    other = post(api_client, SIGNUP, {"username": "dave", "password": PASSWORD}, "198.51.100.20")
    assert other.status_code == 201


# --- a token for a password -------------------------------------------------------------


def test_the_right_password_gets_a_new_working_token(api_client, enabled, alice):
    response = post(api_client, TOKEN, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 201, response.content
    assert set(response.json()) == {"token"}
    assert me(api_client, response.json()["token"]).json()["username"] == "alice"
    assert ApiToken.objects.filter(user=alice).count() == 1


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_a_wrong_name_or_password_is_a_401_and_makes_no_token(api_client, enabled, alice, username):
    response = post(api_client, TOKEN, {"username": username, "password": "wrong-password-1"})
    message = assert_error(response, 401, "invalid_credentials")
    assert "user name or password is wrong" in message
    assert not ApiToken.objects.exists()


def test_an_inactive_account_gets_no_token(api_client, enabled, alice):
    alice.is_active = False
    alice.save()
    response = post(api_client, TOKEN, {"username": "alice", "password": PASSWORD})
    assert_error(response, 401, "invalid_credentials")


def test_wrong_passwords_lock_the_name_out_as_on_the_log_in_page(api_client, enabled, alice):
    wrong = {"username": "alice", "password": "wrong-password-1"}
    for _ in range(enabled.LOGIN_FAILURE_LIMIT - 1):
        assert_error(post(api_client, TOKEN, wrong), 401, "invalid_credentials")
    # The last allowed try is refused, and so is the right password after it.
    assert post(api_client, TOKEN, wrong).status_code == 429
    response = post(api_client, TOKEN, {"username": "alice", "password": PASSWORD})
    assert_error(response, 429, "rate_limited")
    assert response["Retry-After"]
    assert not ApiToken.objects.exists()


def test_password_checks_count_against_the_log_in_limit_per_address(api_client, enabled, alice):
    enabled.LOGIN_RATE_PER_ADDRESS = "1/d"
    assert post(api_client, TOKEN, {"username": "alice", "password": PASSWORD}).status_code == 201
    response = post(api_client, TOKEN, {"username": "alice", "password": PASSWORD})
    assert_error(response, 429, "rate_limited")
    assert ApiToken.objects.count() == 1


def test_new_tokens_count_against_the_accounts_token_limit(api_client, enabled, alice):
    enabled.TOKEN_RATE_PER_ACCOUNT = "2/d"
    credentials = {"username": "alice", "password": PASSWORD}
    assert [post(api_client, TOKEN, credentials).status_code for _ in range(2)] == [201, 201]
    assert_error(post(api_client, TOKEN, credentials), 429, "rate_limited")
    assert ApiToken.objects.filter(user=alice).count() == 2
