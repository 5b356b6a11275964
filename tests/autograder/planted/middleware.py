"""Defects a client sees in the answers: a wrong label, a crash on bad input, photo
links to the app instead of the CDN, a home page no cache may keep."""

import contextlib
import json
from io import BytesIO
from urllib.parse import urlsplit

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse

from tests.autograder.planted import (
    ERROR_500_ON_BAD_INPUT,
    GPS_KEPT,
    NO_PROXY_CACHE,
    SERVED_FROM_APP,
    WRONG_LABEL,
    planted,
)
from tests.autograder.planted.apps import upload

APP_MEDIA = "/planted-media/"
UPLOADS = {"/api/v1/classify", "/api/v1/submissions"}


class PlantedDefectMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        defect = planted()
        if defect == SERVED_FROM_APP and request.path.startswith(APP_MEDIA):
            return FileResponse(default_storage.open(request.path.removeprefix(APP_MEDIA)),
                                content_type="image/jpeg")  # fmt: skip
        upload.exif = None
        if defect == GPS_KEPT and request.method == "POST" and request.path in UPLOADS:
            from PIL import Image

            photo = request.FILES.get("image")
            if photo is not None:
                with contextlib.suppress(OSError):  # not an image: the app refuses it
                    upload.exif = Image.open(BytesIO(photo.read())).info.get("exif")
                photo.seek(0)
        response = self.get_response(request)
        if defect == WRONG_LABEL and request.path == "/api/v1/classify":
            return rewritten(response, wrong_label)
        if defect == ERROR_500_ON_BAD_INPUT and request.path in UPLOADS:
            if 400 <= response.status_code < 500 and response.status_code != 401:
                raise RuntimeError("planted: the upload was not validated")
        if defect == SERVED_FROM_APP and request.path.startswith("/api/v1/submissions"):
            return rewritten(response, links_to_the_app)
        if defect == NO_PROXY_CACHE and request.path == "/":
            response["Cache-Control"] = "no-store"
        return response


def rewritten(response: HttpResponse, change) -> HttpResponse:
    if response.status_code >= 300:
        return response
    body = json.loads(response.content)
    change(body)
    response.content = json.dumps(body).encode()
    response["Content-Length"] = str(len(response.content))
    return response


def wrong_label(body: dict) -> None:
    """A bird is called an ostrich (a model whose labels are out of step, say)."""
    if body.get("is_bird"):
        body["top_class"]["label"] = "ostrich" if body["top_class"]["label"] != "ostrich" else "emu"


def links_to_the_app(body: dict) -> None:
    for submission in body.get("items", [body]):
        path = urlsplit(submission["image_url"]).path
        submission["image_url"] = APP_MEDIA + path.lstrip("/").removeprefix("photos/")
