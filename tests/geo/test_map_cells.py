"""Everyone's photos counted per grid cell (geo/map_cells.py): the counts follow every
save and delete, a rebuild gives the same counts, and the staff map reads its clusters
from them in a big box. Runs on SpatiaLite and PostGIS (BIRDAI_TEST_DB=postgis)."""

import math
from io import StringIO

import pytest
from django.core.management import call_command

from geo.map_cells import LEVELS, MAX_LEVEL, MIN_LEVEL, cell_of, cell_side, level_for
from geo.models import MapCell
from history.models import Submission
from history.services import delete_submission, submit_photo
from tests.geo.test_locations_api import (
    EUROPE,
    LONDON,
    PARIS,
    around,
    create,
    get,
    photo,
    seeded,
)
from tests.test_privacy import photo_full_of_metadata

pytestmark = pytest.mark.django_db


def counts() -> dict[tuple[int, int, int], tuple[int, float, float]]:
    return {
        (cell.level, cell.x, cell.y): (cell.photo_count, cell.longitude_sum, cell.latitude_sum)
        for cell in MapCell.objects.all()
    }


def total_at(level: int) -> int:
    return sum(cell.photo_count for cell in MapCell.objects.filter(level=level))


# --- the grid -----------------------------------------------------------------------


def test_cells_are_numbered_from_the_south_west_corner():
    assert cell_of(-180, -90, 2) == (0, 0)
    assert cell_of(0, 0, 2) == (2, 1)  # 90° cells: 0°E starts the third column
    assert cell_of(-0.0001, -0.0001, 2) == (1, 0)
    # 180°E and 90°N belong to the last column and row, not to one beyond.
    assert cell_of(180, 90, 2) == (3, 1)
    assert cell_of(180, 90, MAX_LEVEL) == (2**MAX_LEVEL - 1, 2 ** (MAX_LEVEL - 1) - 1)
    assert cell_side(MAX_LEVEL) == pytest.approx(0.0879, abs=1e-4)


def test_the_level_gives_cells_at_least_as_big_as_the_grid_asks():
    assert level_for(10, 10, 0.625) == 9  # 0.70° cells
    assert cell_side(9) >= 0.625 > cell_side(10)
    assert level_for(360, 180, 15.9) == 4
    # Too fine for the finest level, or too thin for whole cells: clustered on request.
    assert level_for(0.5, 0.5, 0.03) is None
    assert level_for(360, 0.002, 5.625) is None


# --- the counts follow the photos ---------------------------------------------------


def test_a_saved_photo_is_counted_once_in_every_level(alice):
    create(alice, *LONDON)
    create(alice, None, None)  # no location: not on the map
    for level in LEVELS:
        cells = MapCell.objects.filter(level=level)
        assert len(cells) == 1
        cell = cells[0]
        assert (cell.x, cell.y) == cell_of(*LONDON, level)
        assert (cell.photo_count, cell.longitude_sum, cell.latitude_sum) == (1, *LONDON)


def test_the_cell_remembers_where_its_photos_are_on_average(alice, bob):
    create(alice, -0.10, 51.51)  # 2 km apart, in one ~10 km cell of the finest level
    create(bob, -0.12, 51.53)
    cell = MapCell.objects.get(level=MAX_LEVEL)
    assert cell.photo_count == 2
    assert cell.longitude_sum / cell.photo_count == pytest.approx(-0.11)
    assert cell.latitude_sum / cell.photo_count == pytest.approx(51.52)


def test_a_deleted_photo_is_subtracted_and_an_empty_cell_goes(alice):
    first = create(alice, *LONDON)
    create(alice, *LONDON)
    paris = create(alice, *PARIS)
    first.delete()
    assert total_at(MAX_LEVEL) == 2
    paris.delete()
    assert [cell.photo_count for cell in MapCell.objects.all()] == [1] * len(LEVELS)


def test_deleting_a_user_subtracts_their_photos(alice, bob):
    for lon, lat in around(LONDON, 5, 0.1, seeded(10)):
        create(alice, lon, lat)
    create(bob, *PARIS)
    alice.delete()  # her submissions go with her (on_delete=CASCADE)
    assert total_at(MIN_LEVEL) == 1
    assert MapCell.objects.filter(level=MAX_LEVEL).get().x == cell_of(*PARIS, MAX_LEVEL)[0]


def test_the_upload_path_counts_the_photo_and_deleting_it_uncounts_it(settings, tmp_path, alice):
    """The real way in and out: submit_photo with a phone photo's GPS data (Sydney),
    then delete_submission."""
    settings.MEDIA_ROOT = tmp_path / "media"
    data = photo_full_of_metadata("JPEG")
    submission = submit_photo(owner=alice, data=data, filename="a.jpg").submission
    cell = MapCell.objects.get(level=MAX_LEVEL)
    assert cell.photo_count == 1
    assert (cell.longitude_sum, cell.latitude_sum) == (submission.location.x, submission.location.y)
    assert cell.latitude_sum == pytest.approx(-33.85, abs=0.01)
    delete_submission(submission)
    assert not MapCell.objects.exists()


def test_rebuild_counts_what_was_written_around_the_orm(alice, bob):
    rng = seeded(11)
    for lon, lat in around(PARIS, 20, 1.0, rng):
        create(bob, lon, lat)
    counted_one_by_one = counts()
    # bulk_create sends no signals: these 30 are not counted until a rebuild.
    Submission.objects.bulk_create(
        [photo(alice, lon, lat) for lon, lat in around(LONDON, 30, 1, rng)]
    )
    assert total_at(MIN_LEVEL) == 20

    output = StringIO()
    call_command("rebuild_map_cells", stdout=output)
    assert "Counted 50 located photos" in output.getvalue()

    assert total_at(MIN_LEVEL) == 50
    Submission.objects.filter(owner=alice).delete()
    rebuilt_then_deleted = counts()
    assert rebuilt_then_deleted.keys() == counted_one_by_one.keys()
    for cell, (count, lon_sum, lat_sum) in counted_one_by_one.items():
        assert rebuilt_then_deleted[cell][0] == count
        assert rebuilt_then_deleted[cell][1:] == pytest.approx((lon_sum, lat_sum))


# --- the staff map reads them -------------------------------------------------------


def everyone(client, staff, bbox: str) -> dict:
    response = get(client, staff, bbox=bbox, all="true")
    assert response.status_code == 200, response.content
    return response.json()


def test_everyones_photos_in_a_big_box_come_from_the_counted_cells(client, alice, bob, staff):
    rng = seeded(12)
    for lon, lat in around(LONDON, 130, 0.05, rng):
        create(alice, lon, lat)
    for lon, lat in around(PARIS, 90, 0.05, rng):
        create(bob, lon, lat)

    body = everyone(client, staff, EUROPE)

    assert body["clustered"] is True
    assert body["photo_count"] == 220
    level = level_for(41, 25, 41 / 64)
    clusters = {
        cell_of(*feature["geometry"]["coordinates"], level): feature["properties"]["count"]
        for feature in body["features"]
    }
    assert clusters == {cell_of(*LONDON, level): 130, cell_of(*PARIS, level): 90}


def test_a_cell_on_the_edge_counts_its_photos_beyond_the_box(client, alice, staff):
    """The documented trade-off, which also shows the answer comes from the cells: on
    request, the photos outside the box would not be counted."""
    rng = seeded(13)
    inside = around(PARIS, 210, 0.01, rng)
    for lon, lat in inside:
        create(alice, lon, lat)
    level = level_for(10, 10, 10 / 16)
    side = cell_side(level)
    column, _ = cell_of(*PARIS, level)
    cell_west_edge = column * side - 180
    # The box starts between the cell's west edge and Paris; one photo west of the box
    # but in the same cell.
    box_west = (cell_west_edge + PARIS[0] - 0.02) / 2
    create(alice, (cell_west_edge + box_west) / 2, PARIS[1])
    assert cell_west_edge < box_west < PARIS[0] - 0.02

    body = everyone(client, staff, f"{box_west},44,{box_west + 10},54")

    assert level_for(10, 10, 10 / 16) == level
    assert body["photo_count"] == 211
    # Asked for her own photos, the same box is clustered on request: exactly 210.
    assert get(client, alice, bbox=f"{box_west},44,{box_west + 10},54").json()["photo_count"] == 210


def test_a_small_box_of_everyones_photos_is_clustered_on_request(client, alice, staff):
    for lon, lat in around(LONDON, 210, 0.05, seeded(14)):
        create(alice, lon, lat)
    body = everyone(client, staff, "-0.6,51.2,0.4,51.8")  # a city: 1° across
    assert body["clustered"] is True
    assert body["photo_count"] == 210
    assert math.isclose(sum(feature["properties"]["count"] for feature in body["features"]), 210)
