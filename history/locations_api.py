"""/api/v1/locations: where the signed-in user's photos were taken, as GeoJSON for a map.

Authenticated like the history API, by token or by the browser's session: the map page
(geo/static/geo/map.js) draws from this API too. Only the caller's own photos with a
location are returned; staff may ask for everyone's with all=true.
"""

from typing import Annotated

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status
from pydantic import WithJsonSchema

from accounts.auth import user_auth
from geo.areas import DEFAULT_RADIUS_KM, MAX_RADIUS_KM, InvalidLocationQuery, parse_area
from geo.schemas import LocationsOut
from history.locations import MAX_FEATURES, locations_geojson, submissions_of
from shared.api_schemas import Error

router = Router(tags=["locations"], auth=user_auth)

# Strings whose format names what a client must send, which a JSON schema cannot say
# (numbers in range, min below max): a fuzzer that reads the schema generates valid ones.
Bbox = Annotated[str, WithJsonSchema({"type": "string", "format": "bbox"})]
LatLon = Annotated[str, WithJsonSchema({"type": "string", "format": "lat-lon"})]


@router.get(
    "/locations",
    # The name it had when it lived in geo/api.py: the committed schema keeps it.
    operation_id="geo_api_list_locations",
    url_name="locations",  # reverse("api-v1:locations"): the map page's fetch
    response={200: LocationsOut, 400: Error, 401: Error, 403: Error, 503: Error},
    summary="Where your photos were taken, as GeoJSON",
    description=(
        "A GeoJSON FeatureCollection of your photos that have a location, each a Point "
        "`[longitude, latitude]` with the photo's id, top_species, is_bird, created_at, "
        "taken_at, thumbnail_url and owner (the username: one's own, or anyone's for "
        "staff with all=true).\n\n"
        "Ask for a box, `bbox=minLon,minLat,maxLon,maxLat` (newest first), or a circle, "
        f"`near=lat,lon&radius_km=R` (R defaults to {DEFAULT_RADIUS_KM:g}, at most "
        f"{MAX_RADIUS_KM:g}; nearest first). Exactly one of bbox or near is required.\n\n"
        f"More than {MAX_FEATURES} photos come back as clusters instead: `clustered` is true "
        "and each Feature, at the centroid of its photos, has properties "
        "`{cluster: true, count: N}`. `photo_count` is the number of photos matched.\n\n"
        "Staff may add `all=true` for everyone's photos; others get 403 `forbidden`. "
        "Everyone's clusters in a big box come from a grid counted in advance: a cell on "
        "the box's edge counts all its photos, also those just outside the box. "
        "Bad parameters answer 400 `invalid_request`."
    ),
)
def list_locations(
    request: HttpRequest,
    bbox: Bbox | None = Query(None, description="minLon,minLat,maxLon,maxLat in degrees"),
    near: LatLon | None = Query(None, description="lat,lon in degrees"),
    radius_km: float | None = Query(
        None, gt=0, le=MAX_RADIUS_KM, description="with near: the radius in km"
    ),
    everyone: bool = Query(False, alias="all", description="staff only: everyone's photos"),
):
    if everyone and not request.auth.is_staff:
        return Status(
            403,
            {"error": "forbidden", "message": "Only staff may see everyone's photos (all=true)."},
        )
    try:
        area = parse_area(bbox, near, radius_km)
    except InvalidLocationQuery as error:
        return Status(400, {"error": "invalid_request", "message": str(error)})
    photos = submissions_of(request.auth, everyone=everyone)
    return locations_geojson(area, photos, everyone=everyone)
