from datetime import datetime

from ninja import Schema

from classifier.schemas import LabelProbability, ModelInfo
from history.models import Submission


# The classifier's shapes, under the names /api/v1/submissions has always published.
class SpeciesOut(LabelProbability):
    pass


class ModelOut(ModelInfo):
    pass


class ClassificationOut(Schema):
    is_bird: bool
    bird_probability: float
    top_species: str
    species: list[SpeciesOut]
    model: ModelOut


class LocationOut(Schema):
    latitude: float
    longitude: float
    altitude_m: float | None
    source: str  # "exif" (the photo's GPS data) or "ip" (approximate)


class SubmissionOut(Schema):
    id: int
    created_at: datetime
    original_filename: str
    content_type: str
    byte_size: int
    width: int
    height: int
    sha256: str
    # Links that expire (S3 presigned or CloudFront signed) when files are on S3.
    image_url: str
    thumbnail_url: str
    classification: ClassificationOut
    # What the uploaded photo's metadata revealed; the stored copies keep none of it.
    location: LocationOut | None
    taken_at: datetime | None
    camera: str
    place: str  # the nearest named town: "near Lafayette, US", or ""

    # Django Ninja fills each field from the Submission; these compute the others.
    @staticmethod
    def resolve_image_url(submission: Submission) -> str:
        return submission.image.url

    @staticmethod
    def resolve_thumbnail_url(submission: Submission) -> str:
        return submission.thumbnail.url

    @staticmethod
    def resolve_location(submission: Submission) -> dict | None:
        if submission.location is None:
            return None
        return {
            "latitude": submission.location.y,
            "longitude": submission.location.x,
            "altitude_m": submission.altitude_m,
            "source": submission.location_source,
        }

    @staticmethod
    def resolve_classification(submission: Submission) -> dict:
        return {
            "is_bird": submission.is_bird,
            "bird_probability": submission.bird_probability,
            "top_species": submission.top_species,
            "species": submission.species,
            "model": {"name": submission.model_name, "backend": submission.model_backend},
        }
