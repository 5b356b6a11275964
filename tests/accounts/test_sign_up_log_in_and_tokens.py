"""Accounts: sign-up, log-in, log-out, password change, and personal API tokens."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db

PASSWORD = "sparrow-in-the-rain-42"


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice", password=PASSWORD)


@pytest.fixture
def bob():
    return get_user_model().objects.create_user("bob", password=PASSWORD)


def me(client, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/api/v1/me", headers=headers)


def token_on_page(response) -> str:
    match = re.search(r'<code id="new-token">([^<]+)</code>', response.content.decode())
    assert match, "the page shows no new token"
    return match.group(1)


# --- sign-up, log-in, log-out, password ---------------------------------------------


def test_signing_up_creates_the_account_and_logs_in(client):
    response = client.post(
        "/account/signup/",
        {"username": "carol", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/account/"
    assert client.get("/account/").context["user"].username == "carol"


def test_signing_up_refuses_a_common_password(client):
    response = client.post(
        "/account/signup/", {"username": "carol", "password1": "password", "password2": "password"}
    )
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    assert not get_user_model().objects.filter(username="carol").exists()


def test_logging_in_with_the_right_password(client, alice):
    response = client.post("/account/login/", {"username": "alice", "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/account/")
    assert client.get("/account/").status_code == 200


def test_logging_in_with_a_wrong_password_fails(client, alice):
    response = client.post("/account/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode()
    assert client.get("/account/").status_code == 302


def test_the_account_page_asks_for_a_log_in(client):
    response = client.get("/account/")
    assert (response.status_code, response["Location"]) == (302, "/account/login/?next=/account/")


def test_logging_out_takes_a_post_and_ends_the_session(client, alice):
    client.force_login(alice)
    assert client.get("/account/logout/").status_code == 405  # a link must not log out
    assert client.post("/account/logout/").status_code == 200
    assert client.get("/account/").status_code == 302


def test_changing_the_password(client, alice):
    client.force_login(alice)
    new_password = "heron-at-dawn-77"
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert (response.status_code, response["Location"]) == (302, "/account/password/done/")
    alice.refresh_from_db()
    assert alice.check_password(new_password)
    assert not alice.check_password(PASSWORD)


def test_the_forms_need_a_csrf_token(alice):
    from django.test import Client

    strict_client = Client(enforce_csrf_checks=True)
    response = strict_client.post("/account/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 403


# --- API tokens ---------------------------------------------------------------------


def test_the_account_page_shows_a_new_token_once(client, alice):
    client.force_login(alice)
    response = client.post("/account/", {"name": "load test"})
    token = token_on_page(response)
    assert token.startswith("bird_")
    assert "no-store" in response["Cache-Control"]  # a page holding a secret is not kept
    again = client.get("/account/").content.decode()
    assert token not in again
    assert "load test" in again
    assert token[:12] in again  # the start, to tell tokens apart


def test_a_token_is_stored_only_as_a_digest(alice):
    row, token = ApiToken.issue(alice, "laptop")
    stored = ApiToken.objects.filter(pk=row.pk).values_list()[0]
    assert token not in [str(value) for value in stored]
    assert ApiToken.objects.find(token) == row


def test_a_script_authenticates_with_a_bearer_token(client, alice):
    row, token = ApiToken.issue(alice, "script")
    response = me(client, token)
    assert response.status_code == 200
    assert response.json() == {"username": "alice", "is_staff": False}
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_a_browser_session_also_works(client, alice):
    client.force_login(alice)
    assert me(client).json()["username"] == "alice"


@pytest.mark.parametrize("token", [None, "bird_not-a-real-token", ""])
def test_a_missing_or_unknown_token_gets_401(client, token):
    response = me(client, token)
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    assert "Bearer" in response.json()["message"]


def test_a_revoked_token_stops_working(client, alice):
    row, token = ApiToken.issue(alice, "old")
    client.force_login(alice)
    response = client.post(f"/account/tokens/{row.pk}/revoke/")
    assert (response.status_code, response["Location"]) == (302, "/account/")
    client.logout()
    assert me(client, token).status_code == 401


def test_another_users_token_cannot_be_revoked(client, alice, bob):
    row, token = ApiToken.issue(alice, "alice's")
    client.force_login(bob)
    assert client.post(f"/account/tokens/{row.pk}/revoke/").status_code == 404
    client.logout()
    assert me(client, token).status_code == 200


def test_a_deactivated_users_token_stops_working(client, alice):
    _, token = ApiToken.issue(alice, "script")
    alice.is_active = False
    alice.save()
    assert me(client, token).status_code == 401


def test_the_management_command_prints_a_working_token(client, alice):
    output = StringIO()
    call_command("create_api_token", "alice", "--name", "autograder", stdout=output)
    token = output.getvalue().strip()
    assert me(client, token).json()["username"] == "alice"
    assert ApiToken.objects.get(user=alice).name == "autograder"


def test_the_management_command_names_an_unknown_user():
    with pytest.raises(CommandError, match="There is no user 'nobody'"):
        call_command("create_api_token", "nobody")


def test_the_schema_documents_bearer_authentication(client):
    schema = client.get("/api/v1/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert any(scheme.get("scheme") == "bearer" for scheme in schemes.values())
    assert "security" in schema["paths"]["/api/v1/me"]["get"]
