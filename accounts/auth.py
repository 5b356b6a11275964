"""How API requests say who they are: a personal token, or a browser's session.

    @router.get("/me", auth=user_auth)

Django Ninja calls each in turn; the first that returns a user wins, and when none
does the API answers 401 (see birdai/api.py for the body).
"""

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from accounts.models import ApiToken


class CsrfFailed(Exception):
    """A signed-in browser session sent a POST or DELETE without its CSRF token."""


class ApiTokenAuth(HttpBearer):
    openapi_description = "A personal API token from the account page: `Bearer bird_…`."

    def authenticate(self, request: HttpRequest, token: str):
        api_token = ApiToken.objects.find(token)
        if api_token is None or not api_token.user.is_active:
            return None
        api_token.mark_used()
        request.user = api_token.user
        return api_token.user


class BrowserSessionAuth(SessionAuth):
    """The signed-in browser session; unsafe methods must carry its CSRF token.

    CSRF protects a signed-in session from being borrowed by another site. A request
    with no signed-in session has nothing to borrow, so it is simply not
    authenticated (401), as the schema says; only a signed-in session without a valid
    token is refused as csrf_failed (403). Django Ninja's own check runs before it
    knows whether anyone is signed in, and so answered 403 to every token-less POST.
    """

    openapi_description = "The browser's session cookie; POST and DELETE need X-CSRFToken."

    def __init__(self) -> None:
        super().__init__(csrf=False)  # checked below, once we know there is a session

    def __call__(self, request: HttpRequest):
        if not request.user.is_authenticated:
            return None
        if check_csrf(request) is not None:  # None for GET, or a valid token
            raise CsrfFailed
        return request.user


# Token first: a script that sends one should not depend on a stray session cookie.
user_auth = [ApiTokenAuth(), BrowserSessionAuth()]


def signed_in_user(request: HttpRequest):
    """The user a request acts for, by session or by token, or None: for counting work
    per account (throttling/) on endpoints that anyone may call, such as classify."""
    if request.user.is_authenticated:
        return request.user
    return ApiTokenAuth()(request)
