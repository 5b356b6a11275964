"""/api/v1/submissions: a signed-in user's history, for scripts and the autograder.

Authenticated with `Authorization: Bearer <token>` (or a browser session). Another
user's submission answers 404, exactly like one that does not exist.
"""

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.pagination import PageNumberPagination, paginate
from ninja.responses import Status

from accounts.auth import user_auth
from history.deletion import delete_submission
from history.lookups import owned_submission_or_404
from history.models import Submission
from history.pipeline import submit_photo
from history.schemas import SubmissionOut
from shared.api_schemas import IMAGE_UPLOAD_BODY, error_responses
from shared.client_address import client_ip
from shared.uploads import read_image_upload
from throttling.limits import UPLOAD, limit_api

router = Router(tags=["history"], auth=user_auth)
PAGE_SIZE = 24
MAX_PAGE_SIZE = 100
# Far more pages than anyone has, and small enough that page times page size stays a number
# the database can take as an OFFSET: page=99999999999999999999 is a 400, not an outage.
MAX_PAGE = 1_000_000


class SubmissionPages(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, description=f"at most {MAX_PAGE_SIZE}")


@router.post(
    "/submissions",
    response={200: SubmissionOut, 201: SubmissionOut,
              **error_responses(400, 401, 403, 413, 415, 429, 503)},
    openapi_extra=IMAGE_UPLOAD_BODY,
    summary="Submit a photo to your history",
    description=(
        "Classifies the photo (multipart field `image`), stores it with a thumbnail and "
        "records the result: 201. The same bytes sent again answer 200 with the earlier "
        "submission, and store nothing new."
    ),
)  # fmt: skip
@limit_api(UPLOAD)
def create_submission(request: HttpRequest):
    data, filename = read_image_upload(request)
    submitted = submit_photo(
        owner=request.auth, data=data, filename=filename, client_address=client_ip(request)
    )
    return Status(201 if submitted.created else 200, submitted.submission)


@router.get(
    "/submissions",
    response={200: list[SubmissionOut], **error_responses(400, 401, 503)},
    summary="Your submissions, newest first",
)
@paginate(SubmissionPages, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def list_submissions(request: HttpRequest):
    # A QuerySet, not a list: the paginator adds LIMIT/OFFSET to the SQL.
    return Submission.objects.owned_by(request.auth).newest_first()


@router.get(
    "/submissions/{submission_id}",
    response={200: SubmissionOut, **error_responses(400, 401, 404, 503)},
    summary="One of your submissions",
)
def get_submission(request: HttpRequest, submission_id: int):
    return owned_submission_or_404(request.auth, submission_id)


@router.delete(
    "/submissions/{submission_id}",
    response={204: None, **error_responses(400, 401, 403, 404, 503)},
    summary="Delete one of your submissions and its stored files",
)
def remove_submission(request: HttpRequest, submission_id: int):
    submission = owned_submission_or_404(request.auth, submission_id)
    delete_submission(submission)
    return HttpResponse(status=204)
