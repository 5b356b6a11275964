"""Deleting submissions: the rows (counted out of the staff map) and then their files.

Used by the page, the API, the admin, `manage.py cleanup_storage` and a deleted user's
photos (history/signals.py).
"""

from django.db import DatabaseError, transaction
from django.db.models import QuerySet

from geo import map_cells
from history.files import delete_files
from history.models import Submission
from shared.errors import DatabaseUnavailable


def delete_submission(submission: Submission) -> None:
    """Deletes the row, then (once that is committed) its files."""
    try:
        delete_submissions(Submission.objects.filter(pk=submission.pk))
    except DatabaseError as error:
        raise DatabaseUnavailable() from error


def delete_submissions(submissions: QuerySet[Submission]) -> int:
    """Deletes these rows and counts them out of the map, in one transaction (the
    caller's, if there is one), then, once that is committed, their files; returns how
    many were deleted.

    The rows are locked first: a second delete of the same rows at the same time (a
    double click, a retried request) waits, then finds them gone and does nothing.
    """
    with transaction.atomic():
        rows = list(submissions.select_for_update().only("pk", "image", "thumbnail", "location"))
        if not rows:
            return 0
        map_cells.photos_removed([row.location for row in rows])
        Submission.objects.filter(pk__in=[row.pk for row in rows]).delete()
        keys = [key for row in rows for key in (row.image.name, row.thumbnail.name)]
        transaction.on_commit(lambda: delete_files(keys))
    return len(rows)
