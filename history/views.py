"""The history pages: a grid of the user's submissions, one submission, delete, and an
upload form that keeps the photo (the anonymous one at / keeps nothing)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from birdai.uploads import read_image_upload
from classifier import views as classifier_views
from classifier.engine import ModelUnavailable
from classifier.images import ImageRejected
from geo.ip_location import client_ip
from history.models import Submission
from history.services import (
    DatabaseUnavailable,
    StorageUnavailable,
    delete_submission,
    submit_photo,
)
from throttling.limits import UPLOAD, limit_page

PAGE_SIZE = 24


@login_required
def history(request: HttpRequest) -> HttpResponse:
    submissions = Submission.objects.owned_by(request.user).newest_first()
    page = Paginator(submissions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "history/list.html", {"page": page})


@login_required
@limit_page(UPLOAD)
def upload(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render_upload_page(request)
    try:
        data, filename = read_image_upload(request, "image")
        submitted = submit_photo(
            owner=request.user, data=data, filename=filename, client_address=client_ip(request)
        )
    except ImageRejected as error:
        return render_upload_page(request, error=error.message, status=error.status)
    except (ModelUnavailable, StorageUnavailable, DatabaseUnavailable) as error:
        message = f"{error} Nothing was kept; please try again shortly."
        return render_upload_page(request, error=message, status=503)
    if not submitted.created:
        messages.info(request, "You submitted this photo before: here it is.")
    return redirect("submission", submission_id=submitted.submission.pk)


def render_upload_page(request: HttpRequest, error: str = "", status: int = 200) -> HttpResponse:
    return classifier_views.render_upload_page(request, error, status, keep_in_history=True)


@login_required
def submission(request: HttpRequest, submission_id: int) -> HttpResponse:
    found = get_object_or_404(Submission.objects.owned_by(request.user), pk=submission_id)
    return render(request, "history/detail.html", {"submission": found})


@login_required
@require_POST
def delete(request: HttpRequest, submission_id: int) -> HttpResponse:
    found = get_object_or_404(Submission.objects.owned_by(request.user), pk=submission_id)
    delete_submission(found)
    messages.success(request, f"Deleted “{found.original_filename or found.top_species}”.")
    return redirect("history")
