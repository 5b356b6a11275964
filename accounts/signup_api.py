"""POST /api/v1/signup and POST /api/v1/token: an account and a token without a browser.

The course's autograder signs up its own users on a student's deployment and acts as
them with tokens; the assignment tells students to turn this on with
API_SIGNUP_ENABLED=true. Off (the default), both paths answer the API's 404, as if
they did not exist: a site that wants no scripted sign-ups offers none.

They reuse what the pages use: the sign-up form's checks (SignUpForm: the password
validators, a taken name refused with one generic message), Django's authenticate()
(so django-axes locks a user name out from an address after LOGIN_FAILURE_LIMIT wrong
passwords, as on the log-in page), the token model, and the same limits:
SIGNUP_RATE_PER_ADDRESS for sign-ups, LOGIN_RATE_PER_ADDRESS for password checks and
TOKEN_RATE_PER_ACCOUNT for new tokens. The proxy's nginx counts both paths in its sign-up
and log-in zones too.
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from accounts.forms import SignUpForm
from accounts.models import ApiToken
from shared.api_schemas import error_responses
from throttling.limits import LOGIN, NEW_TOKEN, SIGNUP, count, limit_api
from throttling.responses import RateLimited

router = Router(tags=["accounts"])

# The names the tokens made here carry on the account page.
SIGNUP_TOKEN_NAME = "API sign-up"  # noqa: S105 - a name, not a secret
PASSWORD_TOKEN_NAME = "API token (password)"  # noqa: S105 - a name, not a secret


class Credentials(Schema):
    # Django's own bounds: a user name of at most 150 characters; a password of any
    # length is hashed, so a megabyte one would cost the server (4,096 is plenty).
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=4096)


class SignedUp(Schema):
    username: str
    token: str = Field(..., description="`Authorization: Bearer <token>`; shown only once.")


class NewToken(Schema):
    token: str = Field(..., description="`Authorization: Bearer <token>`; shown only once.")


class InvalidCredentials(Exception):
    """A sign-up the form refused (400), or a wrong user name or password (401); birdai/api.py
    answers it in the API's error shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def only_when_enabled(operation: Callable) -> Callable:
    """Off unless settings.API_SIGNUP_ENABLED: a 404, before anything is counted."""

    @wraps(operation)  # Django Ninja reads the parameters through __wrapped__
    def enabled_operation(request: HttpRequest, *args, **kwargs):
        if not settings.API_SIGNUP_ENABLED:
            raise Http404
        return operation(request, *args, **kwargs)

    return enabled_operation


def form_errors(form: SignUpForm) -> str:
    """The form's messages as one sentence per field, under the API's field names."""
    names = {"password1": "password", "password2": "password", "__all__": "request"}
    parts = []
    for field, errors in form.errors.items():
        for error in dict.fromkeys(errors):  # password1 and password2 repeat each other
            part = f"{names.get(field, field)}: {error}"
            if part not in parts:
                parts.append(part)
    return " ".join(parts)


WRONG_CREDENTIALS = "The user name or password is wrong, or the account is off."
DISABLED = " Off unless the site sets API_SIGNUP_ENABLED=true: then 404."


@router.post(
    "/signup",
    response={201: SignedUp, **error_responses(400, 404, 429, 503)},
    summary="Sign up, and get an API token",
    description=(
        "Makes an account with the same checks as the sign-up page (the password "
        "validators; a taken name gets one generic message) and answers 201 with a "
        "new API token for it. 400 with the reason when the form refuses it: nothing "
        "is created." + DISABLED
    ),
)
@only_when_enabled
@limit_api(SIGNUP)
def signup(request: HttpRequest, credentials: Credentials):
    password = credentials.password
    form = SignUpForm(
        {"username": credentials.username, "password1": password, "password2": password}
    )
    if not form.is_valid():
        raise InvalidCredentials(400, "invalid_signup", form_errors(form))
    try:
        with transaction.atomic():
            user = form.save()
            _, token = ApiToken.issue(user, SIGNUP_TOKEN_NAME)
    except IntegrityError:  # the same name, signed up a moment ago by someone else
        message = form.error_messages["name_unavailable"]
        raise InvalidCredentials(400, "invalid_signup", f"username: {message}") from None
    return Status(201, SignedUp(username=user.username, token=token))


@router.post(
    "/token",
    response={201: NewToken, **error_responses(400, 401, 404, 429, 503)},
    summary="A new API token, for a user name and password",
    description=(
        "Answers 201 with a new API token of the account. A wrong user name or password "
        "is a 401 `invalid_credentials`; after LOGIN_FAILURE_LIMIT of them for one name "
        "from one address, that name is locked out from there (429)." + DISABLED
    ),
)
@only_when_enabled
@limit_api(LOGIN)
def new_token(request: HttpRequest, credentials: Credentials):
    user = authenticate(request, username=credentials.username, password=credentials.password)
    # Locked out (django-axes): None too, and AxesMiddleware answers its 429 instead,
    # which birdai/middleware.py puts in the API's shape.
    if user is None:
        raise InvalidCredentials(401, "invalid_credentials", WRONG_CREDENTIALS)
    # Counted per account, as the account page's new tokens are (throttling/limits.py
    # reads the user from request.user).
    request.user = user
    usage = count(NEW_TOKEN, request)
    if usage is not None and usage.exceeded:
        raise RateLimited(NEW_TOKEN.what, usage.retry_after)
    _, token = ApiToken.issue(user, PASSWORD_TOKEN_NAME)
    return Status(201, NewToken(token=token))
