"""Health endpoints for load balancers, orchestrators and the autograder.

/healthz: the process is alive (no dependency is touched, so a database outage does
not make every app server look dead and get restarted).
/readyz: this server can do useful work: database reachable, model loaded, storage
reachable. 503 names the part that failed.
"""

import os

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from classifier.engine import get_classifier


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
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as error:  # noqa: BLE001 - any failure means "not ready"
            results[name] = f"error: {type(error).__name__}: {error}"
    failing = [name for name, result in results.items() if result != "ok"]
    body = {"status": "unavailable" if failing else "ok", "checks": results}
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)
