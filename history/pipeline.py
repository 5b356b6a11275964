"""The one write path for submissions: a photo in, a recorded submission out.

    submit_photo
      find_earlier          the same bytes sent before? that submission, nothing new
      validate_photo        a format we take, under an honest name, not too many pixels
      decode_photo          the pixels, upright, decoded once for every step below
      classify_image        what the model sees in it (or saw before: by SHA-256)
      read_what_it_reveals  GPS position (or the address's city), place, clock, camera
      clean_copy            upright, at most 2048 pixels, without any metadata
      make_thumbnail        for the history grid
      store_photo           both files, or neither (or those a killed attempt stored)
      record_submission     the row, in one transaction with the map's counts

Each step is a function in its own module (see the imports). From the user's view it
happens entirely or not at all: a rejected image or an outage before the files are
stored leaves nothing, and when recording fails after they were stored, they are
deleted again. An app server killed in between leaves the files, under keys made from
the owner and the checksum: the same upload sent again (by the load balancer, to
another app server) stores nothing new and records them (history/files.py). Should a
deletion itself fail, or a killed upload never be sent again, `manage.py
cleanup_storage` finds the orphan later. What can go wrong is in shared/errors.py:
ImageRejected (4xx), ModelUnavailable, StorageUnavailable or DatabaseUnavailable (503).
"""

import hashlib

from django.conf import settings

from classifier.images import content_format, decode_photo, validate_photo
from classifier.services import classify_image
from history.files import delete_files, store_photo
from history.photos import clean_copy, make_thumbnail, stored_mode
from history.records import Submitted, find_earlier, record_submission
from history.revealed import read_what_it_reveals


def submit_photo(
    *, owner, data: bytes, filename: str, client_address: str | None = None
) -> Submitted:
    """The owner's new submission of the uploaded photo, or their earlier one of the
    same bytes (created=False). client_address gives a photo without GPS data an
    approximate position, when a city database is configured (geo/ip_location.py)."""
    sha256 = hashlib.sha256(data).hexdigest()
    earlier = find_earlier(owner, sha256)
    if earlier:
        return Submitted(earlier, created=False)

    opened = validate_photo(data, filename, max_pixels=settings.MAX_IMAGE_PIXELS)
    image = decode_photo(
        opened,
        longest_side=settings.STORED_PHOTO_LONGEST_SIDE,
        mode=stored_mode(opened),
        max_decode_bytes=settings.MAX_DECODE_BYTES,
    )
    prediction = classify_image(image, sha256=sha256)
    revealed = read_what_it_reveals(data, opened, client_address)
    copy = clean_copy(
        image, content_format(opened), longest_side=settings.STORED_PHOTO_LONGEST_SIDE
    )
    stored = store_photo(owner, sha256, copy, make_thumbnail(image))
    try:
        submitted = record_submission(
            owner=owner,
            sha256=sha256,
            filename=filename,
            copy=copy,
            stored=stored,
            prediction=prediction,
            revealed=revealed,
        )
    except Exception:
        delete_files(stored.written)  # nothing recorded, so nothing this request wrote kept
        raise
    if not submitted.created:  # sent twice at once: the other request's files are kept
        kept = {submitted.submission.image.name, submitted.submission.thumbnail.name}
        delete_files([key for key in stored.written if key not in kept])
    return submitted
