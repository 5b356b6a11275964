"""The stored files of a submission: the clean copy and its thumbnail, under keys
nobody can guess, in the configured storage (the local disk, or S3: shared/storage.py).

Storing is all or nothing (StorageUnavailable); deleting is best effort, and a file left
behind is found later by `manage.py cleanup_storage`.
"""

import logging
import secrets
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

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

    @property
    def keys(self) -> list[str]:
        return [self.image, self.thumbnail]


def store_photo(owner, copy: CleanCopy, thumbnail: bytes) -> StoredPhoto:
    """Stores the clean copy and its thumbnail: both, or neither and StorageUnavailable."""
    image_key, thumbnail_key = new_storage_keys(owner, copy.extension)
    image, thumbnail = store_files(
        [(image_key, copy.data, copy.content_type), (thumbnail_key, thumbnail, "image/webp")]
    )
    return StoredPhoto(image, thumbnail)


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
        raise StorageUnavailable() from error
    return stored


def delete_files(keys: list[str]) -> None:
    """Best effort: a file left behind is found by `manage.py cleanup_storage`."""
    for key in keys:
        try:
            default_storage.delete(key)
        except STORAGE_ERRORS:
            logger.warning("could not delete %s; cleanup_storage will find it", key)
