"""Health endpoints for load balancers, orchestrators and the autograder.

/healthz: the process is alive (no dependency is touched, so a database outage does
not make every app server look dead and get restarted).
/readyz: this server can do useful work: database reachable, model loaded, storage
reachable. 503 names the part that failed, and only that: the error itself (host
names, bucket names, file paths) goes to the log, and to a signed-in staff member.

Both answer whatever the Host header says (HealthCheckMiddleware, below).
"""

import logging
import os

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from classifier.engine import get_classifier

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_model() -> None:
    get_classifier()  # loads the model on first use; raises if it cannot


def check_storage() -> None:
    bucket = getattr(default_storage, "bucket_name", None)
    if bucket:
        default_storage.connection.meta.client.head_bucket(Bucket=bucket)
        return
    os.makedirs(settings.MEDIA_ROOT, exist_ok=True)
    if not os.access(settings.MEDIA_ROOT, os.W_OK):
        raise OSError(f"{settings.MEDIA_ROOT} is not writable")


CHECKS = {"database": check_database, "model": check_model, "storage": check_storage}


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    errors = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # noqa: BLE001 - any failure means "not ready"
            errors[name] = f"{type(error).__name__}: {error}"
            logger.warning("readyz: the %s check failed: %s", name, errors[name])
    body = {
        "status": "unavailable" if errors else "ok",
        "checks": {name: "error" if name in errors else "ok" for name in CHECKS},
    }
    if errors:
        body["failing"] = list(errors)
        # The error texts name database hosts, S3 endpoints, buckets and file paths:
        # useful to whoever runs the site, a map of its insides to anyone else.
        if is_signed_in_staff(request):
            body["errors"] = errors
    return JsonResponse(body, status=503 if errors else 200)


def is_signed_in_staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)  # none when HealthCheckMiddleware answered
    if user is None:
        return False
    try:
        return user.is_staff  # reads the session and the user from the database...
    except DatabaseError:
        return False  # ...which may be the part that failed: then only the log tells


# --- Any Host -----------------------------------------------------------------------

PROBES = {"/healthz": healthz, "/readyz": readyz}


class HealthCheckMiddleware:
    """Answers /healthz and /readyz whatever the Host header says.

    An AWS load balancer probes each instance at its private IP address and sends that
    address as Host. Django answers 400 to a Host that is not in ALLOWED_HOSTS, so the
    balancer would mark every instance unhealthy; and listing the private addresses in
    ALLOWED_HOSTS does not work once autoscaling starts instances with new ones. Django
    checks the Host wherever request.get_host() is called (CommonMiddleware, CSRF, the
    HTTPS redirect), so this middleware comes first in MIDDLEWARE: a probe with such a
    Host is answered here, as anyone else is, before anything checks it. A probe with
    an allowed Host takes the usual way (so a signed-in staff member sees the errors),
    and every other path keeps ALLOWED_HOSTS.

    Answering any Host is safe here because these two answers do not use it: no links,
    no redirects, no cookies are built from it.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None and not host_is_allowed(request):
            return probe(request)
        return self.get_response(request)


def host_is_allowed(request: HttpRequest) -> bool:
    try:
        request.get_host()
    except DisallowedHost:
        return False
    return True
