"""A deleted user's photos go with them (Submission.owner is on_delete=CASCADE): this
counts them out of the map's cells (geo/map_cells.py) first, in the same transaction,
in one statement. Every other write path counts in history/services.py."""

from django.conf import settings
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from geo import map_cells
from history.models import Submission


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL)
def count_out_a_deleted_users_photos(sender, instance, **kwargs) -> None:
    # Locked: a photo of theirs being deleted right now is counted out once, not twice.
    photos = Submission.objects.owned_by(instance).filter(location__isnull=False)
    locations = photos.select_for_update().values_list("location", flat=True)
    map_cells.photos_removed(list(locations))
