"""Areas on the globe a client can ask about, in WGS-84 degrees, and the rows inside them.

Two ways to ask, as GET /api/v1/locations takes them:

* a box, ``bbox=minLon,minLat,maxLon,maxLat`` (a map's viewport), or
* a circle, ``near=lat,lon&radius_km=R``: within R km of a point.

parse_area() turns those query parameters into a Box or a Circle, or says in
InvalidLocationQuery's message what is wrong with them. within() filters any queryset
whose model has a point field named `location`: geo knows areas, not whose points they are.
"""

import math
from dataclasses import dataclass

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point, Polygon
from django.contrib.gis.measure import D
from django.db.models import QuerySet

DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 500.0
# Kilometres per degree of latitude, rounded down so the prefilter box is never too small.
KM_PER_DEGREE = 110.5


class InvalidLocationQuery(ValueError):
    """A bbox/near/radius_km parameter that cannot be used; the message says why."""


@dataclass(frozen=True)
class Box:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @property
    def width(self) -> float:
        return self.max_lon - self.min_lon

    @property
    def height(self) -> float:
        return self.max_lat - self.min_lat

    def polygon(self) -> Polygon:
        polygon = Polygon.from_bbox((self.min_lon, self.min_lat, self.max_lon, self.max_lat))
        polygon.srid = 4326
        return polygon

    def as_list(self) -> list[float]:
        return [self.min_lon, self.min_lat, self.max_lon, self.max_lat]


@dataclass(frozen=True)
class Circle:
    latitude: float
    longitude: float
    radius_km: float

    @property
    def center(self) -> Point:
        return Point(self.longitude, self.latitude, srid=4326)

    def bounding_box(self) -> Box:
        """A box that holds the whole circle (clipped to the globe; all longitudes near a
        pole or across the antimeridian), used to let the spatial index prefilter."""
        dlat = self.radius_km / KM_PER_DEGREE
        min_lat, max_lat = max(-90.0, self.latitude - dlat), min(90.0, self.latitude + dlat)
        cos_lat = min(math.cos(math.radians(min_lat)), math.cos(math.radians(max_lat)))
        dlon = dlat / cos_lat if cos_lat > 1e-6 else 360.0
        min_lon, max_lon = self.longitude - dlon, self.longitude + dlon
        if min_lon < -180.0 or max_lon > 180.0:
            min_lon, max_lon = -180.0, 180.0
        return Box(min_lon, min_lat, max_lon, max_lat)


def _numbers(text: str, name: str, count: int, example: str) -> list[float]:
    parts = text.split(",")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(parts) != count or len(numbers) != count or not all(map(math.isfinite, numbers)):
        raise InvalidLocationQuery(
            f"{name} must be {count} comma-separated numbers, e.g. {name}={example}."
        )
    return numbers


def _check_latitude(value: float, name: str) -> None:
    if not -90.0 <= value <= 90.0:
        raise InvalidLocationQuery(f"{name} must be a latitude between -90 and 90, not {value:g}.")


def _check_longitude(value: float, name: str) -> None:
    if not -180.0 <= value <= 180.0:
        raise InvalidLocationQuery(
            f"{name} must be a longitude between -180 and 180, not {value:g}."
        )


def parse_bbox(text: str) -> Box:
    min_lon, min_lat, max_lon, max_lat = _numbers(text, "bbox", 4, "-0.5,51.3,0.3,51.7")
    _check_longitude(min_lon, "bbox minLon")
    _check_latitude(min_lat, "bbox minLat")
    _check_longitude(max_lon, "bbox maxLon")
    _check_latitude(max_lat, "bbox maxLat")
    if min_lon >= max_lon:
        raise InvalidLocationQuery(
            "bbox minLon must be less than maxLon (order: minLon,minLat,maxLon,maxLat)."
        )
    if min_lat >= max_lat:
        raise InvalidLocationQuery(
            "bbox minLat must be less than maxLat (order: minLon,minLat,maxLon,maxLat)."
        )
    return Box(min_lon, min_lat, max_lon, max_lat)


def parse_near(text: str, radius_km: float | None) -> Circle:
    latitude, longitude = _numbers(text, "near", 2, "51.5,-0.12")
    _check_latitude(latitude, "near latitude")
    _check_longitude(longitude, "near longitude")
    radius = DEFAULT_RADIUS_KM if radius_km is None else radius_km
    if not math.isfinite(radius) or radius <= 0 or radius > MAX_RADIUS_KM:
        raise InvalidLocationQuery(
            f"radius_km must be more than 0 and at most {MAX_RADIUS_KM:g}, not {radius:g}."
        )
    return Circle(latitude, longitude, radius)


def parse_area(bbox: str | None, near: str | None, radius_km: float | None) -> Box | Circle:
    """The area asked for: exactly one of bbox or near (radius_km goes with near)."""
    if bbox is not None and near is not None:
        raise InvalidLocationQuery("Give either bbox or near, not both.")
    if near is not None:
        return parse_near(near, radius_km)
    if radius_km is not None:
        raise InvalidLocationQuery("radius_km goes with near=lat,lon.")
    if bbox is None:
        raise InvalidLocationQuery(
            "Give bbox=minLon,minLat,maxLon,maxLat or near=lat,lon (with radius_km)."
        )
    return parse_bbox(bbox)


def within(area: Box | Circle, points: QuerySet) -> QuerySet:
    """The rows of `points` whose `location` (a point field) lies inside the area, in no
    particular order; rows without a location are left out."""
    located = points.filter(location__isnull=False)
    if isinstance(area, Box):
        return located.filter(location__intersects=area.polygon())
    # Great-circle distances on both backends (ST_DistanceSphere on PostGIS, ST_Distance
    # with use_ellipsoid=0 on SpatiaLite); the box lets the spatial index prefilter.
    return located.filter(location__intersects=area.bounding_box().polygon()).filter(
        location__distance_lte=(area.center, D(km=area.radius_km))
    )


def nearest_first(area: Circle, points: QuerySet) -> QuerySet:
    """`points` ordered by their distance from the circle's centre (then newest id)."""
    return points.annotate(distance=Distance("location", area.center)).order_by("distance", "-id")
