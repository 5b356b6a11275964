"""The history pages: a grid of the user's submissions, one submission, delete, and an
upload form that keeps the photo (the anonymous one at / keeps nothing)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from history.deletion import delete_submission
from history.lookups import owned_submission_or_404
from history.models import Submission
from history.pipeline import submit_photo
from shared.client_address import client_ip
from shared.errors import ServiceError, page_answer
from shared.uploads import read_image_upload, upload_form_context
from throttling.limits import UPLOAD, limit_page

PAGE_SIZE = 24
UPLOAD_PAGE = "history/upload.html"


@login_required
def history(request: HttpRequest) -> HttpResponse:
    submissions = Submission.objects.owned_by(request.user).newest_first()
    page = Paginator(submissions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "history/list.html", {"page": page})


@login_required
@limit_page(UPLOAD)
def upload(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, UPLOAD_PAGE, upload_form_context())
    try:
        data, filename = read_image_upload(request)
        submitted = submit_photo(
            owner=request.user, data=data, filename=filename, client_address=client_ip(request)
        )
    except ServiceError as error:  # a rejected image (4xx), or a part of the service down
        return page_answer(request, error, UPLOAD_PAGE, upload_form_context())
    if not submitted.created:
        messages.info(request, "You submitted this photo before: here it is.")
    return redirect("submission", submission_id=submitted.submission.pk)


@login_required
def submission(request: HttpRequest, submission_id: int) -> HttpResponse:
    found = owned_submission_or_404(request.user, submission_id)
    return render(request, "history/detail.html", {"submission": found})


@login_required
@require_POST
def delete(request: HttpRequest, submission_id: int) -> HttpResponse:
    found = owned_submission_or_404(request.user, submission_id)
    delete_submission(found)
    messages.success(request, f"Deleted “{found.original_filename or found.top_species}”.")
    return redirect("history")
