"""The errors a request can end in, and the one way each becomes an HTTP answer.

    ServiceError                 what the client is told: a code, a sentence, a status
    ├── ImageRejected            the upload is not a photo we take (400, 413 or 415)
    └── Unavailable              a part of the service is down (503): try again shortly
        ├── ModelUnavailable     the classifier could not be loaded
        ├── StorageUnavailable   the photo could not be stored; nothing was recorded
        └── DatabaseUnavailable  the database could not answer; nothing was kept

The code raising one says what went wrong; json_answer() (the API) and page_answer()
(the pages) are the only places that turn it into a response, so a page and the API
answer the same failure with the same status.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

JSON = "application/json; charset=utf-8"  # what Django Ninja answers with, errors alike


class ServiceError(Exception):
    """An error the client is told about: {"error": code, "message": message}."""

    code = "error"
    status = 500
    retry_after: int | None = None  # seconds, sent as Retry-After

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def page_message(self) -> str:
        """The sentence a page shows above its form."""
        return self.message


class ImageRejected(ServiceError):
    """An upload we will not classify or keep: its code and status say why."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class Unavailable(ServiceError):
    """A part of the service is down; the same request may work shortly."""

    code = "unavailable"
    status = 503

    @property
    def page_message(self) -> str:
        return f"{self.message} Nothing was kept; please try again shortly."


class ModelUnavailable(Unavailable):
    """The classifier could not be loaded; the message says what to fix."""

    code = "model_unavailable"


class StorageUnavailable(Unavailable):
    """The photo could not be stored; nothing was recorded."""

    code = "storage_unavailable"

    def __init__(self, message: str = "File storage is unavailable; nothing was kept.") -> None:
        super().__init__(message)

    @property
    def page_message(self) -> str:
        return "File storage is unavailable. Nothing was kept; please try again shortly."


class DatabaseUnavailable(Unavailable):
    """The database could not answer (refused, timed out, dropped); nothing was kept."""

    code = "database_unavailable"
    retry_after = 10

    def __init__(self, message: str = "The database is unavailable; try again shortly.") -> None:
        super().__init__(message)

    @property
    def page_message(self) -> str:
        return "The database is unavailable. Nothing was kept; please try again shortly."


def json_answer(error: ServiceError) -> JsonResponse:
    """The API's answer: {"error": "<code>", "message": "<sentence>"} with its status."""
    response = JsonResponse(
        {"error": error.code, "message": error.message}, status=error.status, content_type=JSON
    )
    return with_retry_after(response, error)


def page_answer(
    request: HttpRequest, error: ServiceError, template: str, context: dict | None = None
) -> HttpResponse:
    """A page's answer: its own template again, the error's sentence above the form."""
    context = {**(context or {}), "error": error.page_message}
    return with_retry_after(render(request, template, context, status=error.status), error)


def with_retry_after(response: HttpResponse, error: ServiceError) -> HttpResponse:
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    return response
