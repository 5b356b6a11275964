import base64
from io import BytesIO

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from PIL.Image import Image

from classifier.services import classify_photo
from shared.errors import ServiceError, page_answer
from shared.uploads import read_image_upload, upload_form_context
from throttling.limits import CLASSIFY, limit_page

UPLOAD_PAGE = "classifier/upload.html"

PREVIEW_LONGEST_SIDE = 640


# Classifying stores nothing and changes nothing, so there is nothing for a forged
# request to abuse; leaving out the CSRF token keeps the page identical for everyone,
# which lets a cache in front of the app servers serve it.
@csrf_exempt
@limit_page(CLASSIFY)
def upload(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, UPLOAD_PAGE, upload_form_context())
    try:
        data, filename = read_image_upload(request)
        photo = classify_photo(data=data, filename=filename)
    except ServiceError as error:  # a rejected image (4xx), the model unavailable (503)
        return page_answer(request, error, UPLOAD_PAGE, upload_form_context())
    context = {
        "result": photo.prediction.as_dict(),
        "elapsed_ms": photo.elapsed_ms,
        "preview": preview_data_uri(photo.image),
        "filename": filename,
    }
    return render(request, "classifier/result.html", context)


def preview_data_uri(image: Image) -> str:
    """A small JPEG of the photo, inlined in the page: the photo is never stored."""
    preview = image.copy()
    preview.thumbnail((PREVIEW_LONGEST_SIDE, PREVIEW_LONGEST_SIDE))
    buffer = BytesIO()
    preview.save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
