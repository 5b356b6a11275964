"""A deleted user's photos go with them, as deleting them one by one would: the rows,
their place in the map's counts and, once the deletion is committed, their files.

Without this, Submission.owner's on_delete=CASCADE would delete only the rows, leaving
the photos in the bucket and in the staff map's counts.
"""

from django.conf import settings
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from history.deletion import delete_submissions
from history.models import Submission


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL)
def delete_a_users_photos(sender, instance, **kwargs) -> None:
    # Sent inside the user's deletion transaction: if it fails, nothing is deleted.
    delete_submissions(Submission.objects.owned_by(instance))
