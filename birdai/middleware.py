"""Errors the API's own handlers (birdai/api.py) never see still answer in its shape, and a
database outage answers 503 with a clear page, not a 500 and a stack trace.

Load balancers and the autograder read 503 as "try again shortly", 500 as "this server
is broken".
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from shared.errors import DatabaseUnavailable, json_answer

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

# Connection refused, timed out, dropped: the database is unreachable, not our bug.
# (An IntegrityError or a ProgrammingError is a bug and stays a 500.)
OUTAGE_ERRORS = (OperationalError, InterfaceError)

# The API's error code and sentence for each status Django (or Django Ninja) may answer
# on its own: an unknown path, a wrong method, an unreadable request, a crash.
ERRORS_BY_STATUS = {
    400: ("invalid_request", "The request cannot be read."),
    401: ("not_authenticated", "Send 'Authorization: Bearer <token>', or log in."),
    403: ("forbidden", "You may not do this."),
    404: ("not_found", "There is no such resource."),
    405: ("method_not_allowed", "This path does not take that method; see the Allow header."),
    413: ("too_large", "The request is larger than the limit."),
    429: ("rate_limited", "Too many requests; try again after Retry-After seconds."),
    500: ("internal_error", "Something went wrong on our side; it has been logged."),
    503: ("unavailable", "The service is unavailable; try again shortly."),
}
# Headers of the original answer that still say something true about the JSON one.
# Vary and Cache-Control too: CacheControlMiddleware, outside this one, marks an
# answer that depended on the session private by its Vary: Cookie.
KEPT_HEADERS = ("Allow", "Retry-After", "Vary", "Cache-Control")


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def json_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": code, "message": message}, status=status)


class ApiErrorShapeMiddleware:
    """Any 4xx/5xx under /api/ that is not JSON yet becomes {"error", "message"} JSON.

    HTML pages keep their HTML error pages."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not is_api_request(request)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        code, message = ERRORS_BY_STATUS.get(response.status_code, ("error", "The request failed."))
        shaped = json_error(code, message, response.status_code)
        for header in KEPT_HEADERS:
            if header in response:
                shaped[header] = response[header]
        return shaped


class DatabaseOutageMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, OUTAGE_ERRORS):
            return None
        logger.error("database unavailable: %s", exception)
        outage = DatabaseUnavailable()
        if is_api_request(request):
            return json_answer(outage)
        # Rendered without a RequestContext: the context processors would need the
        # session and the user, which live in the database that just failed.
        response = HttpResponse(render_to_string("503.html"), status=outage.status)
        response["Retry-After"] = str(outage.retry_after)
        return response
