"""Finding one of the signed-in user's submissions for a page or the API."""

from django.shortcuts import get_object_or_404

from history.models import Submission


def owned_submission_or_404(user, submission_id: int) -> Submission:
    """The user's submission, or Http404: another user's answers exactly like one that
    does not exist, so an id never confirms that someone else's photo is there."""
    return get_object_or_404(Submission.objects.owned_by(user), pk=submission_id)
