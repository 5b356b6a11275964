"""Defects inside the upload pipeline and the history API, planted by wrapping the
functions they call (history.pipeline.clean_copy, history.api.owned_submission_or_404);
each wrapper does the real thing unless its defect is on."""

import dataclasses
import threading
from io import BytesIO

from django.apps import AppConfig
from django.shortcuts import get_object_or_404

from tests.autograder.planted import GPS_KEPT, ISOLATION_BROKEN, planted

# The EXIF of the photo being uploaded by this worker's request (a sync worker: one at a time).
upload = threading.local()


class PlantedDefectsConfig(AppConfig):
    name = "tests.autograder.planted"
    label = "planted_defects"

    def ready(self) -> None:
        from history import api, pipeline
        from history.models import Submission

        real_clean_copy = pipeline.clean_copy
        real_lookup = api.owned_submission_or_404

        def clean_copy(image, validated_format, **options):
            copy = real_clean_copy(image, validated_format, **options)
            exif = getattr(upload, "exif", None)
            if planted() != GPS_KEPT or not exif:
                return copy
            from PIL import Image

            buffer = BytesIO()
            Image.open(BytesIO(copy.data)).save(buffer, format="JPEG", exif=exif)
            return dataclasses.replace(copy, data=buffer.getvalue())

        def owned_submission_or_404(user, submission_id):
            if planted() == ISOLATION_BROKEN:  # anyone's submission, by its id
                return get_object_or_404(Submission, pk=submission_id)
            return real_lookup(user, submission_id)

        pipeline.clean_copy = clean_copy
        api.owned_submission_or_404 = owned_submission_or_404
