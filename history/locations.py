"""Where submissions were taken, as GeoJSON for a map: what GET /api/v1/locations answers
(history/locations_api.py), and so what the map page (geo/static/geo/map.js) draws.

The answer stays small whatever the area: up to MAX_FEATURES photos come back one by
one, newest first in a box and nearest first in a circle; beyond that as clusters
(geo/clusters.py). A user's own photos are grouped on request; everyone's (staff, in a
box big enough) are read from the cells counted as photos come and go
(geo/map_cells.py), as grouping about 190,000 photos per request takes about 0.6 s.

geo knows areas, grids and cells; this module knows which submissions are whose.
"""

from django.db.models import QuerySet

from geo import clusters
from geo.areas import Box, Circle, nearest_first, within
from history.models import Submission

# Above this many photos the answer is clusters. A photo feature carries a thumbnail URL,
# which on S3 is a signed link of up to ~700 characters: 200 of them stay under ~200 KB.
MAX_FEATURES = 200


def submissions_of(user, *, everyone: bool = False) -> QuerySet[Submission]:
    """The user's submissions, or everyone's (staff: all=true); locations_geojson keeps
    those with a location in the area."""
    return Submission.objects.all() if everyone else Submission.objects.owned_by(user)


def in_order(area: Box | Circle, photos: QuerySet[Submission]) -> QuerySet[Submission]:
    """Newest first in a box, nearest first in a circle."""
    if isinstance(area, Box):
        return photos.order_by("-created_at", "-id")
    return nearest_first(area, photos)


def photo_feature(submission: Submission) -> dict:
    return {
        "type": "Feature",
        "geometry": {
            "type": "Point",
            "coordinates": clusters.coordinates(*submission.location.coords),
        },
        "properties": {
            "id": submission.pk,
            "top_species": submission.top_species,
            "is_bird": submission.is_bird,
            "created_at": submission.created_at,
            "taken_at": submission.taken_at,
            "thumbnail_url": submission.thumbnail.url,
            "owner": submission.owner.username,
        },
    }


def locations_geojson(
    area: Box | Circle, photos: QuerySet[Submission], *, everyone: bool = False
) -> dict:
    """A GeoJSON FeatureCollection of the photos in the area: one Feature per photo, or
    clusters when there are more than MAX_FEATURES. Besides the standard members it says
    whether it is clustered and how many photos it stands for.

    everyone: `photos` are everyone's, so a box big enough is clustered from the counted
    cells of geo/map_cells.py instead of on request."""
    matching = within(area, photos)
    box = area if isinstance(area, Box) else area.bounding_box()
    # More than fit? Asked without ORDER BY, the database stops at the 201st match
    # instead of sorting every photo in the box (measured: 540 of 1,245 ms for a box
    # holding 187,709 photos).
    too_many = matching.order_by().values("id")[MAX_FEATURES : MAX_FEATURES + 1].exists()
    if not too_many:
        # select_related: the owner's name comes in the same query, not one per photo.
        photos_in_order = in_order(area, matching).select_related("owner")
        features = [photo_feature(submission) for submission in photos_in_order]
        clustered, photo_count = False, len(features)
    else:
        level = clusters.counted_level(box) if everyone and isinstance(area, Box) else None
        if level is None:
            features = clusters.clusters_of(matching, box)
        else:
            features = clusters.counted_clusters(box, level)
        clustered = True
        photo_count = sum(feature["properties"]["count"] for feature in features)
    return {
        "type": "FeatureCollection",
        "bbox": box.as_list(),
        "clustered": clustered,
        "photo_count": photo_count,
        "features": features,
    }
