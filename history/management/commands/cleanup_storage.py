"""`manage.py cleanup_storage [--delete]`: finds stored files that no submission uses,
and submissions whose files are gone, and (with --delete) removes them.

They appear when a step fails half-way and its undo fails too, e.g. the storage goes
down between storing a photo and deleting it again (history/pipeline.py). A dry run
is the default: it lists what it would remove, and changes nothing.
"""

from datetime import timedelta

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.utils import timezone

from history.deletion import delete_submissions
from history.files import KEY_PREFIX
from history.models import Submission


def stored_keys(storage, folder: str) -> list[str]:
    """Every file below folder, walking it with the Storage API (disk and S3 alike)."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:  # a local folder not made yet (S3 lists nothing instead)
        return []
    keys = [f"{folder}/{name}" for name in files]
    for subfolder in folders:
        keys += stored_keys(storage, f"{folder}/{subfolder}")
    return keys


class Command(BaseCommand):
    help = "Lists (or, with --delete, removes) orphaned files and submissions without files."

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="remove what is found")
        parser.add_argument(
            "--min-age-minutes",
            type=int,
            default=60,
            help="leave younger files alone: an upload in progress stores its files "
            "a moment before it records its row (default: 60)",
        )

    def handle(self, *args, delete: bool, min_age_minutes: int, **options):
        keys = set(stored_keys(default_storage, KEY_PREFIX))
        used: set[str] = set()
        broken_ids = []
        for submission_id, image, thumbnail in Submission.objects.values_list(
            "id", "image", "thumbnail"
        ).iterator():
            used.update((image, thumbnail))
            if image not in keys or thumbnail not in keys:
                broken_ids.append(submission_id)

        if not keys and broken_ids:
            # Every submission missing its files looks like the wrong bucket or folder
            # (a setting), not like lost files: refuse to delete the whole history.
            self.stderr.write(
                f"The storage holds no files under {KEY_PREFIX}/, but "
                f"{len(broken_ids)} submissions point there. Check the storage settings; "
                "no submission will be deleted."
            )
            broken_ids = []

        cutoff = timezone.now() - timedelta(minutes=min_age_minutes)
        orphans = sorted(
            key for key in keys - used if default_storage.get_modified_time(key) < cutoff
        )

        verb = "Deleting" if delete else "Would delete"
        for key in orphans:
            self.stdout.write(f"{verb} orphaned file {key}")
        for submission_id in broken_ids:
            self.stdout.write(f"{verb} submission {submission_id}: its files are missing")
        if delete:
            for key in orphans:
                default_storage.delete(key)
            delete_submissions(Submission.objects.filter(id__in=broken_ids))
        summary = f"{len(orphans)} orphaned files, {len(broken_ids)} submissions without files"
        self.stdout.write(summary + ("" if delete else " (dry run: nothing changed; use --delete)"))
