"""What is limited, and who is counted: an account when someone is signed in, an
address otherwise.

    @limit_page(SIGNUP)         # a page: over the limit, a 429 page
    def signup(request): ...

    @router.post("/classify")
    @limit_api(CLASSIFY)        # an API operation: over the limit, the 429 JSON error
    def classify(request, ...): ...

django-ratelimit counts, in fixed windows, in the shared cache (settings.py,
"Throttling"). A request is counted before the view runs, whatever it answers: a
malformed upload costs the same as a good one.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from django_ratelimit.core import get_usage

from shared.client_address import client_ip
from throttling.responses import RateLimited, too_many_requests_page


@dataclass(frozen=True)
class Limit:
    name: str  # the counters' group, and the word the 429 answer uses
    what: str  # for people: "sign-ups", "photos classified"
    # Settings holding the rates; None: this limit does not count that kind of caller.
    per_account: str | None = None
    per_address: str | None = None
    # Only these methods are counted (a GET of the sign-up form is free).
    methods: tuple[str, ...] = ("POST",)


LOGIN = Limit("login", "log-in attempts", per_address="LOGIN_RATE_PER_ADDRESS")
SIGNUP = Limit("signup", "sign-ups", per_address="SIGNUP_RATE_PER_ADDRESS")
NEW_TOKEN = Limit("new-token", "new API tokens", per_account="TOKEN_RATE_PER_ACCOUNT")
CLASSIFY = Limit(
    "classify",
    "photos classified",
    per_account="CLASSIFY_RATE_PER_ACCOUNT",
    per_address="CLASSIFY_RATE_PER_ADDRESS",
)
UPLOAD = Limit("upload", "photos uploaded", per_account="UPLOAD_RATE_PER_ACCOUNT")  # ASSIGNMENT 2


@dataclass(frozen=True)
class Usage:
    count: int  # this request included
    allowed: int
    retry_after: int  # seconds until the window ends and the count starts again

    @property
    def exceeded(self) -> bool:
        return self.count > self.allowed


def client_address(request: HttpRequest) -> str:
    """The caller's address as the whole app reads it (TRUSTED_PROXY_COUNT): the
    counters' key, and django-axes' (AXES_CLIENT_IP_CALLABLE)."""
    return client_ip(request) or "unknown"


def signed_in_user(request: HttpRequest):
    """The user the request acts for, or None: settings.THROTTLING_ACCOUNT_CALLABLE
    (accounts/ knows about tokens and sessions; throttling/ only counts)."""
    return import_string(settings.THROTTLING_ACCOUNT_CALLABLE)(request)


def counted_as(limit: Limit, request: HttpRequest) -> tuple[str, str] | None:
    """(key, rate) this request is counted under, or None when the limit does not apply."""
    user = signed_in_user(request) if limit.per_account else None
    if user is not None:
        return f"account:{user.pk}", getattr(settings, limit.per_account)
    if limit.per_address:
        return f"address:{client_address(request)}", getattr(settings, limit.per_address)
    return None


def count(limit: Limit, request: HttpRequest, *, increment: bool = True) -> Usage | None:
    """Counts this request (increment=False: only looks); None when it is not counted."""
    if request.method not in limit.methods:
        return None
    counted = counted_as(limit, request)
    if counted is None:
        return None
    key, rate = counted
    usage = get_usage(
        request, group=limit.name, key=lambda _group, _request: key, rate=rate,
        increment=increment,
    )  # fmt: skip
    if usage is None:  # the cache failed and RATELIMIT_FAIL_OPEN let the request through
        return None
    return Usage(usage["count"], usage["limit"], retry_after=max(usage["time_left"], 1))


def limit_page(limit: Limit) -> Callable:
    """For a Django view: over the limit, the 429 page instead of the view."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def limited_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            usage = count(limit, request)
            if usage is not None and usage.exceeded:
                return too_many_requests_page(request, limit.what, usage.retry_after)
            return view(request, *args, **kwargs)

        return limited_view

    return decorator


def limit_api(limit: Limit) -> Callable:
    """For an API operation, below its @router decorator: over the limit, raises
    RateLimited, which birdai/api.py answers with the JSON error shape."""

    def decorator(operation: Callable) -> Callable:
        @wraps(operation)  # Django Ninja reads the parameters through __wrapped__
        def limited_operation(request: HttpRequest, *args, **kwargs):
            usage = count(limit, request)
            if usage is not None and usage.exceeded:
                raise RateLimited(limit.what, usage.retry_after)
            return operation(request, *args, **kwargs)

        return limited_operation

    return decorator
