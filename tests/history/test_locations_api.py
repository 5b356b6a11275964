"""GET /api/v1/locations (history/locations_api.py; areas and clusters from geo/areas.py
and geo/clusters.py): the caller's photos as GeoJSON, by box or by distance, clustered
when there are many. Runs on SpatiaLite and PostGIS (BIRDAI_TEST_DB=postgis)."""

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.gis.geos import Point

from geo.areas import Box
from geo.clusters import grid_size
from history.locations import MAX_FEATURES
from history.models import LocationSource, Submission
from tests.history.test_submissions import bearer

pytestmark = pytest.mark.django_db

URL = "/api/v1/locations"
LONDON = (-0.1276, 51.5072)  # (lon, lat)
PARIS = (2.3522, 48.8566)
EUROPE = "-11,35,30,60"
START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


_serial = iter(range(10**9))


def photo(owner, lon: float | None, lat: float | None, *, minutes: int = 0, **fields):
    """A minimal valid submission, not saved, at (lon, lat) or without a location."""
    n = next(_serial)
    defaults = dict(
        image=f"submissions/{owner.pk}/p{n}.jpg", thumbnail=f"submissions/{owner.pk}/p{n}-t.webp",
        content_type="image/jpeg", byte_size=5, width=1, height=1, sha256=f"{n:064d}",
        is_bird=True, bird_probability=0.9, top_species="robin", species=[], model_name="m",
        model_backend="onnx", created_at=START + timedelta(minutes=minutes),
    )  # fmt: skip
    if lon is not None:
        defaults.update(location=Point(lon, lat, srid=4326), location_source=LocationSource.EXIF)
    return Submission(owner=owner, **{**defaults, **fields})


def create(owner, lon, lat, **fields) -> Submission:
    submission = photo(owner, lon, lat, **fields)
    submission.save()
    return submission


def seed(owner, points) -> None:
    Submission.objects.bulk_create([photo(owner, lon, lat) for lon, lat in points])


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - made-up positions, not a secret


def around(center, count: int, spread: float, rng: random.Random):
    lon, lat = center
    return [
        (lon + rng.uniform(-spread, spread), lat + rng.uniform(-spread, spread))
        for _ in range(count)
    ]


def get(client, user, **params):
    return client.get(URL, params, headers=bearer(user))


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [feature["properties"]["id"] for feature in response.json()["features"]]


# --- a box --------------------------------------------------------------------------


def test_a_box_holds_the_callers_located_photos_as_geojson(client, alice, bob):
    taken = datetime(2023, 7, 14, 8, 30, tzinfo=UTC)
    london = create(alice, *LONDON, top_species="robin", taken_at=taken, minutes=1)
    paris = create(alice, *PARIS, top_species="magpie", is_bird=False, minutes=2)
    create(alice, -74.0060, 40.7128)  # New York: outside the box
    create(alice, None, None)  # no location
    create(bob, *LONDON)  # someone else's

    response = get(client, alice, bbox=EUROPE)

    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["clustered"] is False
    assert body["photo_count"] == 2
    assert body["bbox"] == [-11, 35, 30, 60]
    assert ids(response) == [paris.pk, london.pk]  # newest first
    feature = body["features"][1]
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": list(LONDON)}
    assert feature["properties"] == {
        "id": london.pk,
        "top_species": "robin",
        "is_bird": True,
        "created_at": "2024-05-01T12:01:00Z",
        "taken_at": "2023-07-14T08:30:00Z",
        "thumbnail_url": london.thumbnail.url,
        "owner": "alice",
    }
    assert body["features"][0]["properties"]["is_bird"] is False
    assert body["features"][0]["properties"]["taken_at"] is None


def test_another_users_photos_never_appear(client, alice, bob):
    seed(bob, [LONDON, PARIS])
    response = get(client, alice, bbox="-180,-90,180,90")
    assert response.json()["features"] == []
    assert response.json()["photo_count"] == 0


def test_photos_on_the_edge_of_the_box_are_in_it(client, alice):
    corner = create(alice, 10.0, 50.0)
    assert ids(get(client, alice, bbox="10,50,11,51")) == [corner.pk]


def test_it_needs_a_signed_in_user(client):
    response = client.get(URL, {"bbox": EUROPE})
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


# --- near a point -------------------------------------------------------------------


def test_near_finds_photos_within_the_radius_nearest_first(client, alice, bob):
    lon, lat = LONDON
    # 0.009° of latitude is ~1 km.
    three = create(alice, lon, lat + 0.027, minutes=1)
    eight = create(alice, lon, lat - 0.072, minutes=2)
    one = create(alice, lon, lat + 0.009, minutes=3)
    fifteen = create(alice, lon, lat + 0.135, minutes=4)
    create(bob, lon, lat)
    create(alice, None, None)
    near = f"{lat},{lon}"

    assert ids(get(client, alice, near=near)) == [one.pk, three.pk, eight.pk]  # 10 km default
    assert ids(get(client, alice, near=near, radius_km=5)) == [one.pk, three.pk]
    assert ids(get(client, alice, near=near, radius_km=20)) == [
        one.pk,
        three.pk,
        eight.pk,
        fifteen.pk,
    ]


def test_near_measures_kilometres_not_degrees_away_from_the_equator(client, alice):
    # At 60° N a degree of longitude is ~55.8 km: 0.15° east is ~8.4 km, 0.2° ~11.2 km.
    inside = create(alice, 10.15, 60.0)
    create(alice, 10.2, 60.0)
    assert ids(get(client, alice, near="60,10", radius_km=10)) == [inside.pk]


def test_near_reaches_across_the_antimeridian(client, alice):
    # 0.02° of longitude on the equator is ~2.2 km, across the 180th meridian.
    east = create(alice, 179.99, 0.0)
    west = create(alice, -179.99, 0.0)
    create(alice, -179.5, 0.0)  # ~55 km away
    assert sorted(ids(get(client, alice, near="0,179.995", radius_km=5))) == sorted(
        [east.pk, west.pk]
    )


# --- everyone's photos ------------------------------------------------------------------


def test_staff_may_see_everyones_photos(client, alice, bob, staff):
    mine = create(alice, *LONDON)
    theirs = create(bob, *PARIS)
    everyone = get(client, staff, bbox=EUROPE, all="true")
    assert sorted(ids(everyone)) == [mine.pk, theirs.pk]
    owners = {f["id"]: f["owner"] for f in (f["properties"] for f in everyone.json()["features"])}
    assert owners == {mine.pk: alice.username, theirs.pk: bob.username}
    assert ids(get(client, staff, bbox=EUROPE)) == []  # without all: only their own


def test_others_may_not_see_everyones_photos(client, alice, bob):
    create(bob, *PARIS)
    response = get(client, alice, bbox=EUROPE, all="true")
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "forbidden"
    assert "staff" in body["message"]


# --- bad parameters -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({}, "bbox=minLon,minLat,maxLon,maxLat or near"),
        ({"bbox": "1,2,3"}, "4 comma-separated numbers"),
        ({"bbox": "1,2,3,4,5"}, "4 comma-separated numbers"),
        ({"bbox": "a,b,c,d"}, "4 comma-separated numbers"),
        ({"bbox": "1,2,nan,4"}, "4 comma-separated numbers"),
        ({"bbox": ""}, "4 comma-separated numbers"),
        ({"bbox": "10,50,5,51"}, "minLon must be less than maxLon"),
        ({"bbox": "5,51,10,50"}, "minLat must be less than maxLat"),
        ({"bbox": "0,-91,10,10"}, "latitude between -90 and 90"),
        ({"bbox": "0,0,10,90.5"}, "latitude between -90 and 90"),
        ({"bbox": "-181,0,10,10"}, "longitude between -180 and 180"),
        ({"bbox": "0,0,180.1,10"}, "longitude between -180 and 180"),
        ({"bbox": EUROPE, "near": "51,0"}, "not both"),
        ({"bbox": EUROPE, "radius_km": "5"}, "radius_km goes with near"),
        ({"near": "51"}, "2 comma-separated numbers"),
        ({"near": "51,0,3"}, "2 comma-separated numbers"),
        ({"near": "north,west"}, "2 comma-separated numbers"),
        ({"near": "91,0"}, "latitude between -90 and 90"),
        ({"near": "0,200"}, "longitude between -180 and 180"),
        # The range is in the OpenAPI schema, so Django Ninja's validation words these.
        ({"near": "51,0", "radius_km": "0"}, "radius_km: Input should be greater than 0"),
        ({"near": "51,0", "radius_km": "-3"}, "radius_km: Input should be greater than 0"),
        ({"near": "51,0", "radius_km": "501"}, "less than or equal to 500"),
        ({"near": "51,0", "radius_km": "inf"}, "radius_km"),
        ({"near": "51,0", "radius_km": "far"}, "radius_km"),
    ],
)
def test_bad_parameters_answer_400(client, alice, params, complaint):
    response = get(client, alice, **params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid_request"
    assert complaint in body["message"]


# --- many photos: clusters ----------------------------------------------------------


def test_up_to_the_limit_photos_come_one_by_one(client, alice):
    seed(alice, around(LONDON, MAX_FEATURES, 0.1, seeded(1)))
    body = get(client, alice, bbox=EUROPE).json()
    assert body["clustered"] is False
    assert len(body["features"]) == body["photo_count"] == MAX_FEATURES


def test_beyond_the_limit_photos_come_as_clusters(client, alice, bob):
    rng = seeded(2)
    seed(alice, around(LONDON, 120, 0.05, rng) + around(PARIS, 90, 0.05, rng))
    seed(bob, around(LONDON, 300, 0.05, rng))  # not alice's: never counted

    body = get(client, alice, bbox=EUROPE).json()

    assert body["clustered"] is True
    assert body["photo_count"] == 210
    assert sum(f["properties"]["count"] for f in body["features"]) == 210
    for feature in body["features"]:
        assert set(feature["properties"]) == {"cluster", "count"}
        assert feature["properties"]["cluster"] is True
        assert feature["geometry"]["type"] == "Point"

    def count_near(center) -> int:
        return sum(
            f["properties"]["count"]
            for f in body["features"]
            if abs(f["geometry"]["coordinates"][0] - center[0]) < 0.5
            and abs(f["geometry"]["coordinates"][1] - center[1]) < 0.5
        )

    # Each cluster is drawn at the centroid of its photos: near the city they were in.
    assert (count_near(LONDON), count_near(PARIS)) == (120, 90)
    # The cells (~0.9° here) are far bigger than each city's spread: a few clusters each.
    assert len(body["features"]) <= 8


def test_near_clusters_too(client, alice):
    seed(alice, around(LONDON, MAX_FEATURES + 50, 0.05, seeded(3)))
    seed(alice, [PARIS])  # ~340 km away
    body = get(client, alice, near=f"{LONDON[1]},{LONDON[0]}", radius_km=50).json()
    assert body["clustered"] is True
    assert body["photo_count"] == MAX_FEATURES + 50


BOXES = [
    "-180,-90,180,90",  # the whole world
    "-11,35,30,60",  # a continent
    "-0.6,51.2,0.4,51.8",  # a city
    "-180,-0.001,180,0.001",  # a thin band round the equator
    "0,-90,0.0001,90",  # a thin slice pole to pole
]


def test_any_box_answers_a_small_response(client, alice):
    rng = seeded(4)
    world = [(rng.uniform(-180, 180), rng.uniform(-90, 90)) for _ in range(1000)]
    city = around(LONDON, 400, 0.3, rng)
    equator = [(rng.uniform(-180, 180), rng.uniform(-0.001, 0.001)) for _ in range(300)]
    meridian = [(rng.uniform(0, 0.0001), rng.uniform(-90, 90)) for _ in range(300)]
    seed(alice, world + city + equator + meridian)  # 2,000 photos, seeded once for speed

    for bbox in BOXES:
        response = get(client, alice, bbox=bbox)
        assert response.status_code == 200, bbox
        assert len(response.content) <= 200_000, bbox
        body = response.json()
        assert body["clustered"] is True, bbox
        assert len(body["features"]) <= 400, bbox
        total = sum(feature["properties"]["count"] for feature in body["features"])
        assert total == body["photo_count"] > MAX_FEATURES, bbox
        if bbox == "-180,-90,180,90":
            assert body["photo_count"] == 2000


def test_the_grid_never_has_more_than_a_few_hundred_cells():
    for box in [Box(-180, -90, 180, 90), Box(-180, -1e-6, 180, 1e-6), Box(0, -90, 1e-6, 90)]:
        size = grid_size(box)
        cells = (box.width / size + 1) * (box.height / size + 1)
        assert cells <= 400


def test_a_full_page_of_photos_with_long_names_stays_small(client, alice):
    long_name = "submissions/1/" + "x" * 230
    Submission.objects.bulk_create(
        [
            photo(alice, *LONDON, thumbnail=f"{long_name}{n:05d}.webp", top_species="y" * 100)
            for n in range(MAX_FEATURES)
        ]
    )
    response = get(client, alice, bbox=EUROPE)
    assert response.json()["clustered"] is False
    assert len(response.content) <= 200_000


# --- documentation ------------------------------------------------------------------


def test_the_openapi_schema_describes_it(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/locations"]["get"]
    assert "GeoJSON" in operation["summary"]
    assert "cluster" in operation["description"]
    assert {p["name"] for p in operation["parameters"]} >= {"bbox", "near", "radius_km", "all"}
    assert set(operation["responses"]) >= {"200", "400", "401", "403"}
    assert json.dumps(schema["components"]["schemas"]["LocationsOut"])
