"""The one write path for submissions, and deletion.

submit_photo: validate → classify → read what the EXIF reveals → store a clean copy (upright,
no metadata) and a thumbnail → record the row.
From the user's view it happens entirely or not at all: when storage fails nothing is
recorded (StorageUnavailable, a 503), and when the database fails after the files were
stored, the files are deleted again (DatabaseUnavailable, a 503). Should a deletion
itself fail, `manage.py cleanup_storage` finds the orphan later.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import QuerySet

from classifier.services import classify_photo
from geo import map_cells
from geo.exif import PhotoMetadata, read_photo_metadata
from geo.ip_location import ip_position
from geo.places import describe_position
from history.models import LocationSource, Submission
from history.photos import clean_copy, make_thumbnail

logger = logging.getLogger(__name__)

# What a file storage raises when it cannot do its job: the local disk (OSError) or S3.
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)
KEY_PREFIX = "submissions"


class StorageUnavailable(Exception):
    """The photo could not be stored; nothing was recorded."""


class DatabaseUnavailable(Exception):
    """The database could not record the submission; nothing was kept."""


@dataclass(frozen=True)
class Submitted:
    submission: Submission
    created: bool  # False: the same bytes were submitted before, this is that submission


def submit_photo(
    *, owner, data: bytes, filename: str, client_address: str | None = None
) -> Submitted:
    """Raises ImageRejected (bad input, 4xx), ModelUnavailable, StorageUnavailable or
    DatabaseUnavailable (503). client_address gives a photo without GPS data an
    approximate position, when a city database is configured (geo/ip_location.py)."""
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        earlier = Submission.objects.owned_by(owner).with_checksum(sha256).first()
    except DatabaseError as error:
        raise DatabaseUnavailable("The database is unavailable.") from error
    if earlier:
        return Submitted(earlier, created=False)

    photo = classify_photo(data=data, filename=filename)  # validates the image first
    metadata = read_photo_metadata(data)  # what the photo reveals, before it is removed
    copy = clean_copy(  # upright, without any metadata
        data,
        filename,
        longest_side=settings.STORED_PHOTO_LONGEST_SIDE,
        max_decode_bytes=settings.MAX_DECODE_BYTES,
    )
    image_key, thumbnail_key = new_storage_keys(owner, copy.extension)
    stored = store_files(
        [
            (image_key, copy.data, copy.content_type),
            (thumbnail_key, make_thumbnail(photo.image), "image/webp"),
        ]
    )
    prediction = photo.prediction
    location_fields = revealed_fields(metadata)
    if metadata.location is None:  # no GPS data: perhaps the uploader's city
        location_fields.update(ip_location_fields(client_address))
    location_fields["place"] = describe_position(location_fields["location"])
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                owner=owner,
                image=stored[0],
                thumbnail=stored[1],
                original_filename=filename[:255],
                content_type=copy.content_type,
                byte_size=len(copy.data),
                width=copy.width,
                height=copy.height,
                sha256=sha256,  # of the bytes as uploaded: the same upload is found again
                **location_fields,
                is_bird=prediction.is_bird,
                bird_probability=prediction.bird_probability,
                top_species=prediction.species[0].label,
                species=[
                    {"label": species.label, "probability": species.probability}
                    for species in prediction.species
                ],
                model_name=prediction.model.name,
                model_backend=prediction.model.backend,
            )
            map_cells.photos_added([submission.location])  # the staff map's counts
    except IntegrityError:
        # The same photo, sent twice at once: the other request recorded it first.
        delete_files(stored)
        earlier = Submission.objects.owned_by(owner).with_checksum(sha256).first()
        if earlier is None:
            raise
        return Submitted(earlier, created=False)
    except DatabaseError as error:
        delete_files(stored)
        raise DatabaseUnavailable("The database is unavailable.") from error
    return Submitted(submission, created=True)


def revealed_fields(metadata: PhotoMetadata) -> dict:
    """The Submission fields for what the photo's EXIF revealed."""
    location = metadata.location
    camera = " ".join(part for part in (metadata.camera_make, metadata.camera_model) if part)
    return {
        "location": Point(location.longitude, location.latitude, srid=4326) if location else None,
        "altitude_m": location.altitude_m if location else None,
        "location_source": LocationSource.EXIF if location else LocationSource.NONE,
        "taken_at": camera_clock_time(metadata.taken_at),
        "camera": camera[:200],
    }


def ip_location_fields(client_address: str | None) -> dict:
    position = ip_position(client_address)
    if position is None:
        return {}
    latitude, longitude = position
    return {
        "location": Point(longitude, latitude, srid=4326),
        "location_source": LocationSource.IP,
    }


def camera_clock_time(taken_at: datetime | None) -> datetime | None:
    """Most cameras record their clock's local time without saying which zone it was in.
    Such a time is kept as the camera showed it, labelled UTC (so the history shows the
    same wall-clock time); a time that came with its offset is kept exactly."""
    if taken_at is None or taken_at.tzinfo is not None:
        return taken_at
    return taken_at.replace(tzinfo=UTC)


def new_storage_keys(owner, extension: str) -> tuple[str, str]:
    """Unguessable keys under the owner's prefix: submissions/<user id>/<random>.<ext>."""
    name = secrets.token_urlsafe(16)
    prefix = f"{KEY_PREFIX}/{owner.pk}/{name}"
    return f"{prefix}.{extension}", f"{prefix}-thumbnail.webp"


def store_files(files: list[tuple[str, bytes, str]]) -> list[str]:
    """Stores each (key, bytes, content type); all of them, or none and StorageUnavailable."""
    stored: list[str] = []
    try:
        for key, data, content_type in files:
            content = ContentFile(data)
            content.content_type = content_type  # S3 sends it as Content-Type
            stored.append(default_storage.save(key, content))
    except STORAGE_ERRORS as error:
        delete_files(stored)
        raise StorageUnavailable("File storage is unavailable.") from error
    return stored


def delete_files(keys: list[str]) -> None:
    """Best effort: a file left behind is found by `manage.py cleanup_storage`."""
    for key in keys:
        try:
            default_storage.delete(key)
        except STORAGE_ERRORS:
            logger.warning("could not delete %s; cleanup_storage will find it", key)


def delete_submission(submission: Submission) -> None:
    """Deletes the row, then (once that is committed) its files."""
    try:
        delete_submissions(Submission.objects.filter(pk=submission.pk))
    except DatabaseError as error:
        raise DatabaseUnavailable("The database is unavailable.") from error


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
