import base64
from io import BytesIO

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from PIL.Image import Image

from birdai.uploads import read_image_upload
from classifier.engine import ModelUnavailable
from classifier.images import ImageRejected
from classifier.services import classify_photo
from throttling.limits import CLASSIFY, limit_page

PREVIEW_LONGEST_SIDE = 640


# Classifying stores nothing and changes nothing, so there is nothing for a forged
# request to abuse; leaving out the CSRF token keeps the page identical for everyone,
# which lets a cache in front of the app servers serve it.
@csrf_exempt
@limit_page(CLASSIFY)
def upload(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render_upload_page(request)
    try:
        data, filename = read_image_upload(request, "image")
        photo = classify_photo(data=data, filename=filename)
    except ImageRejected as error:
        return render_upload_page(request, error=error.message, status=error.status)
    except ModelUnavailable as error:
        return render_upload_page(request, error=str(error), status=503)
    context = {
        "result": photo.prediction.as_dict(),
        "elapsed_ms": photo.elapsed_ms,
        "preview": preview_data_uri(photo.image),
        "filename": filename,
    }
    return render(request, "classifier/result.html", context)


def render_upload_page(
    request: HttpRequest, error: str = "", status: int = 200, *, keep_in_history: bool = False
) -> HttpResponse:
    """The upload form; keep_in_history posts it to /history/upload/ (with a CSRF token)."""
    context = {
        "error": error,
        "max_upload_bytes": settings.MAX_UPLOAD_BYTES,
        "keep_in_history": keep_in_history,
    }
    return render(request, "classifier/upload.html", context, status=status)


def preview_data_uri(image: Image) -> str:
    """A small JPEG of the photo, inlined in the page: the photo is never stored."""
    preview = image.copy()
    preview.thumbnail((PREVIEW_LONGEST_SIDE, PREVIEW_LONGEST_SIDE))
    buffer = BytesIO()
    preview.save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
