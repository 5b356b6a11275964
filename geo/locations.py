"""Where a user's photos were taken, as GeoJSON for a map (GET /api/v1/locations).

Two ways to ask, both in WGS-84 degrees:

* a box, ``bbox=minLon,minLat,maxLon,maxLat`` (the map's viewport), or
* a circle, ``near=lat,lon&radius_km=R``: the photos within R km, nearest first.

The answer stays small whatever the box: up to MAX_FEATURES photos come back one by one;
beyond that the photos are grouped into clusters on a grid sized to the box (at most about
CLUSTER_CELLS + 2 * CLUSTER_AXIS_CELLS + 1 cells, so a few hundred features). Each cluster is
the centroid of its photos with their count. Grouping is done by the database, with the
same SQL on PostGIS and SpatiaLite: SnapToGrid(location) is the cell, GROUP BY it, and
Centroid(Collect(location)) is where the cluster is drawn. Everyone's photos (staff, in a
big box) are too many for that: their clusters are read from cells counted in advance
(geo/map_cells.py), which count whole cells, also photos just beyond the box's edge.
"""

import math
from dataclasses import dataclass

from django.contrib.gis.db.models.aggregates import Collect
from django.contrib.gis.db.models.functions import Centroid, Distance, SnapToGrid
from django.contrib.gis.geos import Point, Polygon
from django.contrib.gis.measure import D
from django.db.models import Count, QuerySet

from geo import map_cells
from history.models import Submission

# Above this many photos the answer is clusters. A photo feature carries a thumbnail URL,
# which on S3 is a signed link of up to ~700 characters: 200 of them stay under ~200 KB.
MAX_FEATURES = 200
# The grid: about this many cells over the box, never more than this many along an axis.
CLUSTER_CELLS = 256
CLUSTER_AXIS_CELLS = 64
DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 500.0
# Kilometres per degree of latitude, rounded down so the prefilter box is never too small.
KM_PER_DEGREE = 110.5
COORDINATE_DIGITS = 6  # ~0.1 m: more than any phone's GPS


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


def photos_in(area: Box | Circle, photos: QuerySet[Submission]) -> QuerySet[Submission]:
    """The photos (with a location) inside the area, in no particular order."""
    located = photos.filter(location__isnull=False)
    if isinstance(area, Box):
        return located.filter(location__intersects=area.polygon())
    # Great-circle distances on both backends (ST_DistanceSphere on PostGIS, ST_Distance
    # with use_ellipsoid=0 on SpatiaLite); the box lets the spatial index prefilter.
    return located.filter(location__intersects=area.bounding_box().polygon()).filter(
        location__distance_lte=(area.center, D(km=area.radius_km))
    )


def in_order(area: Box | Circle, photos: QuerySet[Submission]) -> QuerySet[Submission]:
    """Newest first in a box, nearest first in a circle."""
    if isinstance(area, Box):
        return photos.order_by("-created_at", "-id")
    return photos.annotate(distance=Distance("location", area.center)).order_by("distance", "-id")


def grid_size(box: Box) -> float:
    """The side of a grid cell, in degrees: about CLUSTER_CELLS cells over the box, and
    never more than CLUSTER_AXIS_CELLS along its width or its height."""
    return max(
        math.sqrt(box.width * box.height / CLUSTER_CELLS),
        box.width / CLUSTER_AXIS_CELLS,
        box.height / CLUSTER_AXIS_CELLS,
    )


def _coordinates(longitude: float, latitude: float) -> list[float]:
    return [round(longitude, COORDINATE_DIGITS), round(latitude, COORDINATE_DIGITS)]


def photo_feature(submission: Submission) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": _coordinates(*submission.location.coords)},
        "properties": {
            "id": submission.pk,
            "top_species": submission.top_species,
            "is_bird": submission.is_bird,
            "created_at": submission.created_at,
            "taken_at": submission.taken_at,
            "thumbnail_url": submission.thumbnail.url,
        },
    }


def cluster_feature(count: int, longitude: float, latitude: float) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": _coordinates(longitude, latitude)},
        "properties": {"cluster": True, "count": count},
    }


def cluster_features(photos: QuerySet[Submission], box: Box) -> list[dict]:
    """The photos grouped on request: exact, and quick for up to some ten thousand."""
    cells = (
        photos.order_by()  # no ORDER BY columns: they would join the GROUP BY
        .values(cell=SnapToGrid("location", grid_size(box)))
        .annotate(count=Count("*"), center=Centroid(Collect("location")))
        .order_by("-count")
    )
    return [cluster_feature(cell["count"], *cell["center"].coords) for cell in cells]


def counted_cluster_features(box: Box, level: int) -> list[dict]:
    """Everyone's photos, from the cells counted in advance (geo/map_cells.py)."""
    return [cluster_feature(*cell) for cell in map_cells.clusters_in(box, level)]


def locations_geojson(
    area: Box | Circle, photos: QuerySet[Submission], *, everyone: bool = False
) -> dict:
    """A GeoJSON FeatureCollection of the photos in the area: one Feature per photo, or
    clusters when there are more than MAX_FEATURES. Besides the standard members it says
    whether it is clustered and how many photos it stands for.

    everyone: `photos` are everyone's, so a box big enough is clustered from the counted
    cells of geo/map_cells.py instead of on request."""
    matching = photos_in(area, photos)
    box = area if isinstance(area, Box) else area.bounding_box()
    # More than fit? Asked without ORDER BY, the database stops at the 201st match
    # instead of sorting every photo in the box (measured: 540 of 1,245 ms for a box
    # holding 187,709 photos).
    too_many = matching.order_by().values("id")[MAX_FEATURES : MAX_FEATURES + 1].exists()
    if not too_many:
        features = [photo_feature(submission) for submission in in_order(area, matching)]
        clustered, photo_count = False, len(features)
    else:
        level = None
        if everyone and isinstance(area, Box):
            level = map_cells.level_for(box.width, box.height, grid_size(box))
        if level is None:
            features = cluster_features(matching, box)
        else:
            features = counted_cluster_features(box, level)
        clustered = True
        photo_count = sum(feature["properties"]["count"] for feature in features)
    return {
        "type": "FeatureCollection",
        "bbox": box.as_list(),
        "clustered": clustered,
        "photo_count": photo_count,
        "features": features,
    }
