"""The submission rows: finding the same photo sent before, and recording a new one.

A photo is the same when its bytes are (their SHA-256, per owner): sending it again
answers with the earlier submission and keeps nothing new. A database that cannot answer
is DatabaseUnavailable (a 503), never a half-written row.
"""

from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, transaction

from classifier.engine import Prediction
from geo import map_cells
from history.files import StoredPhoto
from history.models import Submission
from history.photos import CleanCopy
from shared.errors import DatabaseUnavailable


@dataclass(frozen=True)
class Submitted:
    submission: Submission
    created: bool  # False: the same bytes were submitted before, this is that submission


def find_earlier(owner, sha256: str) -> Submission | None:
    """The owner's submission of the same bytes, if there is one."""
    try:
        return Submission.objects.owned_by(owner).with_checksum(sha256).first()
    except DatabaseError as error:
        raise DatabaseUnavailable() from error


def record_submission(
    *,
    owner,
    sha256: str,
    filename: str,
    copy: CleanCopy,
    stored: StoredPhoto,
    prediction: Prediction,
    revealed: dict,
) -> Submitted:
    """The new row, counted on the staff map in the same transaction; or, when the same
    photo sent twice at once was recorded first by the other request, that one
    (created=False). DatabaseUnavailable when the database cannot record it."""
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                owner=owner,
                image=stored.image,
                thumbnail=stored.thumbnail,
                original_filename=filename[:255],
                content_type=copy.content_type,
                byte_size=len(copy.data),
                width=copy.width,
                height=copy.height,
                sha256=sha256,  # of the bytes as uploaded: the same upload is found again
                **revealed,
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
        earlier = find_earlier(owner, sha256)
        if earlier is None:
            raise
        return Submitted(earlier, created=False)
    except DatabaseError as error:
        raise DatabaseUnavailable() from error
    return Submitted(submission, created=True)
