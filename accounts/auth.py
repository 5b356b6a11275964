"""How API requests say who they are: a personal token, or a browser's session.

    @router.get("/me", auth=user_auth)

Django Ninja calls each in turn; the first that returns a user wins, and when none
does the API answers 401 (see birdai/api.py for the body).
"""

from django.http import HttpRequest
from ninja.security import HttpBearer, django_auth

from accounts.models import ApiToken


class ApiTokenAuth(HttpBearer):
    openapi_description = "A personal API token from the account page: `Bearer bird_…`."

    def authenticate(self, request: HttpRequest, token: str):
        api_token = ApiToken.objects.find(token)
        if api_token is None or not api_token.user.is_active:
            return None
        api_token.mark_used()
        request.user = api_token.user
        return api_token.user


# Token first: a script that sends one should not depend on a stray session cookie.
# django_auth checks the CSRF token for unsafe methods, as a form would.
user_auth = [ApiTokenAuth(), django_auth]


def signed_in_user(request: HttpRequest):
    """The user a request acts for, by session or by token, or None: for counting work
    per account (throttling/) on endpoints that anyone may call, such as classify."""
    if request.user.is_authenticated:
        return request.user
    return ApiTokenAuth()(request)
