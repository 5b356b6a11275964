"""The nearest named place to a position: "near Lafayette, US" (offline; geo/models.py)."""

import math

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point, Polygon

from geo.models import Place

SEARCH_RADIUS_KM = 50  # farther than this from any town, a photo is "near" nothing
KM_PER_DEGREE_LATITUDE = 111.32


def nearest_place(position: Point, radius_km: float = SEARCH_RADIUS_KM) -> Place | None:
    """The closest place within radius_km, or None (also when no places are loaded)."""
    latitude, longitude = position.y, position.x
    # A box around the position first, which the spatial index answers at once; only
    # the few places inside it are sorted by distance. A degree of longitude shrinks
    # towards the poles, hence the cosine (kept away from zero near them).
    half_height = radius_km / KM_PER_DEGREE_LATITUDE
    half_width = half_height / max(math.cos(math.radians(latitude)), 0.05)
    box = Polygon.from_bbox(
        (
            longitude - half_width,
            latitude - half_height,
            longitude + half_width,
            latitude + half_height,
        )
    )
    box.srid = 4326
    return (
        Place.objects.filter(point__bboverlaps=box)
        .annotate(distance=Distance("point", position))
        .order_by("distance")
        .first()
    )


def describe_position(position: Point | None) -> str:
    place = nearest_place(position) if position is not None else None
    return f"near {place.name}, {place.country_code}" if place else ""
