"""Many points on a map as a few hundred clusters, as GeoJSON Features.

A box holding too many points to send one by one is cut into a grid sized to the box
(at most about CLUSTER_CELLS + 2 * CLUSTER_AXIS_CELLS + 1 cells, so a few hundred
features). Each cluster is the centroid of its points with their count. Two ways to get
them, for two sizes of data:

* clusters_of(points, box): grouped by the database on request, from any queryset whose
  model has a point field named `location`, with the same SQL on PostGIS and SpatiaLite:
  SnapToGrid(location) is the cell, GROUP BY it, and Centroid(Collect(location)) is where
  the cluster is drawn. Exact, and quick for up to some ten thousand points.
* counted_clusters(box, level): read from the cells counted in advance (geo/map_cells.py),
  for everyone's photos, too many to group per request. A cell is counted whole, so a
  cell on the box's edge also counts its points just beyond the edge.
"""

import math

from django.contrib.gis.db.models.aggregates import Collect
from django.contrib.gis.db.models.functions import Centroid, SnapToGrid
from django.db.models import Count, QuerySet

from geo import map_cells
from geo.areas import Box

# The grid: about this many cells over the box, never more than this many along an axis.
CLUSTER_CELLS = 256
CLUSTER_AXIS_CELLS = 64
COORDINATE_DIGITS = 6  # ~0.1 m: more than any phone's GPS


def grid_size(box: Box) -> float:
    """The side of a grid cell, in degrees: about CLUSTER_CELLS cells over the box, and
    never more than CLUSTER_AXIS_CELLS along its width or its height."""
    return max(
        math.sqrt(box.width * box.height / CLUSTER_CELLS),
        box.width / CLUSTER_AXIS_CELLS,
        box.height / CLUSTER_AXIS_CELLS,
    )


def coordinates(longitude: float, latitude: float) -> list[float]:
    """A GeoJSON position, [longitude, latitude], rounded to COORDINATE_DIGITS."""
    return [round(longitude, COORDINATE_DIGITS), round(latitude, COORDINATE_DIGITS)]


def cluster_feature(count: int, longitude: float, latitude: float) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": coordinates(longitude, latitude)},
        "properties": {"cluster": True, "count": count},
    }


def clusters_of(points: QuerySet, box: Box) -> list[dict]:
    """The points (already filtered to the box) grouped on request, biggest first."""
    cells = (
        points.order_by()  # no ORDER BY columns: they would join the GROUP BY
        .values(cell=SnapToGrid("location", grid_size(box)))
        .annotate(count=Count("*"), center=Centroid(Collect("location")))
        .order_by("-count")
    )
    return [cluster_feature(cell["count"], *cell["center"].coords) for cell in cells]


def counted_level(box: Box) -> int | None:
    """The level of counted cells that clusters this box, or None when the box is too
    small or too thin for whole cells (geo/map_cells.py's level_for)."""
    return map_cells.level_for(box.width, box.height, grid_size(box))


def counted_clusters(box: Box, level: int) -> list[dict]:
    """Everyone's photos in the box, from the cells counted in advance."""
    return [cluster_feature(*cell) for cell in map_cells.clusters_in(box, level)]
