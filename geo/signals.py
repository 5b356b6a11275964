"""Keeps the map's cell counts (geo/map_cells.py) in step with the photos: a Submission
saved for the first time is added, one deleted (by its owner, by cleanup_storage, or
with its user) is subtracted, in the same transaction as the row itself. A photo's
location is set when it is submitted and never changes afterwards."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from geo import map_cells
from history.models import Submission


@receiver(post_save, sender=Submission)
def count_new_photo(sender, instance: Submission, created: bool, raw: bool = False, **kwargs):
    if created and not raw:  # raw: loaddata, whose rows are counted by rebuild_map_cells
        map_cells.photo_added(instance.location)


@receiver(post_delete, sender=Submission)
def uncount_deleted_photo(sender, instance: Submission, **kwargs):
    map_cells.photo_removed(instance.location)
