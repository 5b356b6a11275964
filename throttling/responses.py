"""What a client over a limit gets: 429 Too Many Requests with Retry-After (seconds).

The API answers its usual error shape (birdai/api.py turns RateLimited into it); pages
answer a page that says when to try again.
"""

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


class RateLimited(Exception):
    def __init__(self, what: str, retry_after: int) -> None:
        self.retry_after = retry_after
        self.message = f"Too many {what}; try again in {describe_wait(retry_after)}."
        super().__init__(self.message)


def describe_wait(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)  # rounded up: never promise less than the wait
    return f"{minutes} minutes"


def with_retry_after(response: HttpResponse, seconds: int) -> HttpResponse:
    response["Retry-After"] = str(seconds)
    # A proxy cache must not serve this answer to anyone else.
    response["Cache-Control"] = "no-store"
    return response


def too_many_requests_page(
    request: HttpRequest, what: str, retry_after: int, *, explanation: str = ""
) -> HttpResponse:
    context = {
        "what": what,
        "wait": describe_wait(retry_after),
        "retry_at": timezone.now() + timedelta(seconds=retry_after),
        "explanation": explanation,
    }
    response = render(request, "throttling/too_many_requests.html", context, status=429)
    return with_retry_after(response, retry_after)


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """django-axes' lock-out answer (AXES_LOCKOUT_CALLABLE): the same 429 page.

    Every refused try starts the wait again (django-axes' default), so the whole
    lock-out time is exactly how long to wait from now.
    """
    return too_many_requests_page(
        request,
        "failed log-ins for this user name from your address",
        settings.LOGIN_LOCKOUT_MINUTES * 60,
        explanation=(
            "Log-in for this user name is paused from your address. Tries during the "
            "pause start the wait again. Forgot the password? Ask the site's staff."
        ),
    )
