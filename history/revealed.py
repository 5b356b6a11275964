"""What a photo reveals about where and when it was taken, read before the clean copy
leaves all of it behind: the EXIF GPS position (geo/exif.py), else an approximate one
from the uploader's address (geo/ip_location.py), the nearest named place
(geo/places.py), the camera's clock and the camera.

The answer is the Submission fields it fills.
"""

from datetime import UTC, datetime

from django.contrib.gis.geos import Point
from PIL.Image import Image

from geo.exif import read_photo_metadata
from geo.ip_location import ip_position
from geo.places import describe_position
from history.models import LocationSource


def read_what_it_reveals(data: bytes, opened: Image, client_address: str | None) -> dict:
    """The Submission fields for what the photo (`data`, as validation `opened` it)
    reveals. client_address gives a photo without GPS data an approximate position, when
    a city database is configured."""
    metadata = read_photo_metadata(data, opened)
    location = metadata.location
    fields = {
        "location": Point(location.longitude, location.latitude, srid=4326) if location else None,
        "altitude_m": location.altitude_m if location else None,
        "location_source": LocationSource.EXIF if location else LocationSource.NONE,
        "taken_at": camera_clock_time(metadata.taken_at),
        "camera": camera_name(metadata.camera_make, metadata.camera_model),
    }
    if location is None:  # no GPS data: perhaps the uploader's city
        fields.update(ip_location_fields(client_address))
    fields["place"] = describe_position(fields["location"])
    return fields


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


def camera_name(make: str | None, model: str | None) -> str:
    return " ".join(part for part in (make, model) if part)[:200]
