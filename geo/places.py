"""The nearest named place to a position: "near Lafayette, US" (offline; geo/models.py)."""

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point

from geo.areas import Circle
from geo.models import Place

SEARCH_RADIUS_KM = 50  # farther than this from any town, a photo is "near" nothing


def nearest_place(position: Point, radius_km: float = SEARCH_RADIUS_KM) -> Place | None:
    """The closest place within radius_km, or None (also when no places are loaded)."""
    # A box around the position first, which the spatial index answers at once; only
    # the few places inside it are sorted by distance.
    box = Circle(position.y, position.x, radius_km).bounding_box().polygon()
    return (
        Place.objects.filter(point__bboverlaps=box)
        .annotate(distance=Distance("point", position))
        .order_by("distance")
        .first()
    )


def describe_position(position: Point | None) -> str:
    place = nearest_place(position) if position is not None else None
    return f"near {place.name}, {place.country_code}" if place else ""
