from django.http import HttpRequest
from ninja import Router

from classifier.schemas import Classification
from classifier.services import classify_photo
from shared.api_schemas import IMAGE_UPLOAD_BODY, error_responses
from shared.uploads import read_image_upload
from throttling.limits import CLASSIFY, limit_api

router = Router(tags=["classifier"])


@router.post(
    "/classify",
    response={200: Classification, **error_responses(400, 413, 415, 429, 503)},
    openapi_extra=IMAGE_UPLOAD_BODY,
    summary="Classify one photo",
    description=(
        "Send a JPEG, PNG, WebP or HEIC photo as multipart/form-data in the field `image`. "
        "Nothing is stored. `species` lists the five most likely bird species with their "
        "share of the whole probability; `bird_probability` is the total over all bird "
        "classes and `is_bird` compares it with the configured threshold."
    ),
)
@limit_api(CLASSIFY)
def classify(request: HttpRequest) -> dict:
    data, filename = read_image_upload(request)
    photo = classify_photo(data=data, filename=filename)
    return {**photo.prediction.as_dict(), "elapsed_ms": round(photo.elapsed_ms, 2)}
