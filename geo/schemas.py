"""The GeoJSON shapes of GET /api/v1/locations (RFC 7946, plus a few foreign members)."""

from datetime import datetime
from typing import Literal

from ninja import Schema


class PointGeometry(Schema):
    type: Literal["Point"]
    coordinates: list[float]  # [longitude, latitude]


class PhotoProperties(Schema):
    id: int
    top_species: str
    is_bird: bool
    created_at: datetime
    taken_at: datetime | None
    thumbnail_url: str  # a link that expires when files are on S3
    owner: str  # the username of whose photo it is (staff see everyone's: all=true)


class ClusterProperties(Schema):
    cluster: Literal[True]
    count: int  # how many photos the cluster stands for


class PhotoFeature(Schema):
    type: Literal["Feature"]
    geometry: PointGeometry
    properties: PhotoProperties


class ClusterFeature(Schema):
    type: Literal["Feature"]
    geometry: PointGeometry  # the centroid of the cluster's photos
    properties: ClusterProperties


class LocationsOut(Schema):
    type: Literal["FeatureCollection"]
    bbox: list[float]  # the area searched: [minLon, minLat, maxLon, maxLat]
    clustered: bool  # true: the features are clusters, not photos
    photo_count: int  # how many photos the features stand for
    features: list[PhotoFeature | ClusterFeature]
