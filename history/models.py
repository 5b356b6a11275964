"""A submission: one photo a signed-in user uploaded, where it is stored, and what the
classifier said about it.

Reads go through SubmissionQuerySet (`Submission.objects.owned_by(user).newest_first()`);
the one write path is history.pipeline.submit_photo, which stores the files and the
row together or not at all.
"""

from django.conf import settings
from django.contrib.gis.db import models as gis_models
from django.db import models
from django.utils import timezone


class LocationSource(models.TextChoices):
    EXIF = "exif", "the photo's GPS data"
    IP = "ip", "the uploader's IP address (approximate)"
    NONE = "", "unknown"


class SubmissionQuerySet(models.QuerySet):
    def owned_by(self, user) -> "SubmissionQuerySet":
        # Every read is scoped to its owner: another user's submission is simply not
        # there (a 404), never a 403 that would confirm it exists.
        return self.filter(owner=user)

    def newest_first(self) -> "SubmissionQuerySet":
        # Served by the (owner, -created_at, -id) index: no sort, however many rows.
        return self.order_by("-created_at", "-id")

    def with_checksum(self, sha256: str) -> "SubmissionQuerySet":
        return self.filter(sha256=sha256)


class Submission(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions"
    )
    # Storage keys are made by the app (per-user prefix + random id), never from the
    # client's file name, which is kept only as data.
    image = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255)
    original_filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=50)  # from the validated image format
    byte_size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()  # upright, as the photo is shown
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    # What the classifier said.
    is_bird = models.BooleanField()
    bird_probability = models.FloatField()
    top_species = models.CharField(max_length=100)  # the likeliest bird class
    species = models.JSONField()  # the top five: [{"label": ..., "probability": ...}]
    model_name = models.CharField(max_length=100)
    model_backend = models.CharField(max_length=20)

    # What the photo's EXIF revealed (geo/exif.py). The stored copy keeps none of it.
    location = gis_models.PointField(srid=4326, null=True, blank=True)  # x=longitude, y=latitude
    altitude_m = models.FloatField(null=True, blank=True)
    location_source = models.CharField(
        max_length=10, choices=LocationSource.choices, default=LocationSource.NONE, blank=True
    )
    # The camera's clock; without a recorded offset, its wall-clock time labelled UTC.
    taken_at = models.DateTimeField(null=True, blank=True)
    place = models.CharField(max_length=250, blank=True)  # "near Lafayette, US" (geo/places.py)
    camera = models.CharField(max_length=200, blank=True)

    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="submission_owner_newest"),
        ]
        constraints = [
            # The same bytes twice from one user are one submission (see submit_photo).
            models.UniqueConstraint(fields=["owner", "sha256"], name="submission_unique_photo"),
        ]

    def __str__(self) -> str:
        return f"{self.top_species} ({self.created_at:%Y-%m-%d %H:%M})"
