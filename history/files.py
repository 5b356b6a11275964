"""The stored files of a submission: the clean copy and its thumbnail, under keys
nobody can guess, in the configured storage (the local disk, or S3: shared/storage.py).

Storing is all or nothing (StorageUnavailable); deleting is best effort, and a file left
behind is found later by `manage.py cleanup_storage`.

The keys are not random: they are a keyed hash (HMAC, with the SECRET_KEY every app
server shares) of the owner and the photo's checksum. An app server killed after
storing a photo's files and before recording its row (kill -9, out of memory) leaves
them behind; the load balancer then sends the same upload to another app server
(issue #14), which computes the same keys, finds the files there and uses them, so
nothing is left without a row.
"""

import base64
import logging
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.crypto import salted_hmac

from history.photos import CleanCopy
from shared.errors import StorageUnavailable

logger = logging.getLogger(__name__)

# What a file storage raises when it cannot do its job: the local disk (OSError) or S3.
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)
KEY_PREFIX = "submissions"


@dataclass(frozen=True)
class StoredPhoto:
    image: str  # the storage keys the files were saved under
    thumbnail: str
    # The keys this request wrote itself; the others an earlier attempt at the same
    # upload left behind. Only these are this request's to delete.
    written: list[str] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [self.image, self.thumbnail]


def store_photo(owner, sha256: str, copy: CleanCopy, thumbnail: bytes) -> StoredPhoto:
    """Stores the clean copy and its thumbnail: both, or neither and StorageUnavailable."""
    image_key, thumbnail_key = storage_keys(owner, sha256, copy.extension)
    (image, thumbnail), written = store_files(
        [(image_key, copy.data, copy.content_type), (thumbnail_key, thumbnail, "image/webp")]
    )
    return StoredPhoto(image, thumbnail, written)


def storage_keys(owner, sha256: str, extension: str) -> tuple[str, str]:
    """Keys under the owner's prefix, submissions/<user id>/<name>.<ext>: the same for
    the same owner and photo on every app server, unguessable without the SECRET_KEY."""
    digest = salted_hmac(__name__, f"{owner.pk}:{sha256}", algorithm="sha256").digest()
    name = base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")
    prefix = f"{KEY_PREFIX}/{owner.pk}/{name}"
    return f"{prefix}.{extension}", f"{prefix}-thumbnail.webp"


def store_files(files: list[tuple[str, bytes, str]]) -> tuple[list[str], list[str]]:
    """Stores each (key, bytes, content type); all of them, or none and StorageUnavailable.
    Returns the keys, and those of them it wrote: a key already stored was left by an
    earlier attempt at the same upload, whose process died before recording it, and
    holds the same bytes (made from the same upload by the same code; S3 stores an
    object whole or not at all), so it is used as it is."""
    stored: list[str] = []
    written: list[str] = []
    try:
        for key, data, content_type in files:
            if default_storage.exists(key):
                stored.append(key)
                continue
            content = ContentFile(data)
            content.content_type = content_type  # S3 sends it as Content-Type
            saved = default_storage.save(key, content)
            stored.append(saved)
            written.append(saved)
    except STORAGE_ERRORS as error:
        delete_files(written)
        raise StorageUnavailable() from error
    return stored, written


def delete_files(keys: list[str]) -> None:
    """Best effort: a file left behind is found by `manage.py cleanup_storage`."""
    for key in keys:
        try:
            default_storage.delete(key)
        except STORAGE_ERRORS:
            logger.warning("could not delete %s; cleanup_storage will find it", key)
