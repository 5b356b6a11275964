"""Everyone's photos counted per grid cell (geo/map_cells.py): the counts follow the
app's uploads and deletes, a rebuild gives the same counts, and the staff map reads its
clusters from them in a big box (its photos bulk-loaded, then counted by a rebuild).
Runs on SpatiaLite and PostGIS (BIRDAI_TEST_DB=postgis)."""

import math
import threading
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from geo.map_cells import (
    LEVELS,
    MAX_LEVEL,
    MIN_LEVEL,
    cell_of,
    cell_side,
    level_for,
    rebuild,
)
from geo.models import MapCell
from history.deletion import delete_submission, delete_submissions
from history.models import Submission
from history.pipeline import submit_photo
from tests.geo.test_exif import GPS, dms, jpeg_with_exif, make_exif
from tests.history.test_locations_api import EUROPE, LONDON, PARIS, around, get, seed, seeded

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

_photo_number = iter(range(10**6))


def gps_jpeg(longitude: float, latitude: float) -> bytes:
    """A small JPEG with this GPS position; each one's bytes differ (no deduplication)."""
    gps = {
        GPS.GPSLatitudeRef: "N" if latitude >= 0 else "S",
        GPS.GPSLatitude: dms(abs(latitude), 0, 0),
        GPS.GPSLongitudeRef: "E" if longitude >= 0 else "W",
        GPS.GPSLongitude: dms(abs(longitude), 0, 0),
    }
    return jpeg_with_exif(make_exif(gps=gps, Model=f"camera {next(_photo_number)}"))


@pytest.fixture
def upload(settings, tmp_path):
    """submit_photo, the app's one way in, with files under a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"

    def upload(owner, longitude=None, latitude=None) -> Submission:
        if longitude is None:
            data = jpeg_with_exif(make_exif(Model=f"camera {next(_photo_number)}"))
        else:
            data = gps_jpeg(longitude, latitude)
        return submit_photo(owner=owner, data=data, filename="photo.jpg").submission

    return upload


def test_an_uploaded_photo_is_counted_once_in_every_level(alice, upload):
    upload(alice, *LONDON)
    upload(alice)  # no location: not on the map
    assert Submission.objects.count() == 2
    for level in LEVELS:
        cells = MapCell.objects.filter(level=level)
        assert len(cells) == 1
        cell = cells[0]
        assert (cell.x, cell.y) == cell_of(*LONDON, level)
        assert cell.photo_count == 1
        assert (cell.longitude_sum, cell.latitude_sum) == pytest.approx(LONDON)


def test_the_cell_remembers_where_its_photos_are_on_average(alice, bob, upload):
    upload(alice, -0.10, 51.51)  # 2 km apart, in one ~10 km cell of the finest level
    upload(bob, -0.12, 51.53)
    cell = MapCell.objects.get(level=MAX_LEVEL)
    assert cell.photo_count == 2
    assert cell.longitude_sum / cell.photo_count == pytest.approx(-0.11)
    assert cell.latitude_sum / cell.photo_count == pytest.approx(51.52)


def test_a_deleted_photo_is_counted_out_and_its_empty_cell_not_drawn(client, alice, staff, upload):
    first = upload(alice, *LONDON)
    upload(alice, *LONDON)
    paris = upload(alice, *PARIS)
    delete_submission(first)
    assert total_at(MAX_LEVEL) == 2
    delete_submission(paris)
    assert total_at(MAX_LEVEL) == 1
    assert MapCell.objects.get(level=MAX_LEVEL, photo_count__gt=0).x == cell_of(*LONDON, 12)[0]


def test_a_photo_deleted_twice_is_counted_out_once(alice, upload):
    """A double click or a retried request: the second delete finds the row gone."""
    photo = upload(alice, *LONDON)
    upload(alice, *LONDON)
    stale_copy = Submission.objects.get(pk=photo.pk)
    delete_submission(photo)
    delete_submission(stale_copy)
    assert Submission.objects.count() == 1
    assert total_at(MIN_LEVEL) == total_at(MAX_LEVEL) == 1


def test_deleting_a_user_deletes_their_photos_files_and_counts(
    alice, bob, upload, django_capture_on_commit_callbacks
):
    photos = [upload(alice, lon, lat) for lon, lat in around(LONDON, 5, 0.1, seeded(10))]
    upload(bob, *PARIS)
    files = [Path(path) for photo in photos for path in (photo.image.path, photo.thumbnail.path)]
    assert all(path.exists() for path in files)
    with django_capture_on_commit_callbacks(execute=True):  # the files go after the commit
        alice.delete()
    assert Submission.objects.count() == 1
    assert not any(path.exists() for path in files)
    assert total_at(MIN_LEVEL) == total_at(MAX_LEVEL) == 1
    assert MapCell.objects.get(level=MAX_LEVEL, photo_count__gt=0).x == cell_of(*PARIS, 12)[0]


def test_deleting_many_at_once_counts_them_out_and_removes_their_files(
    alice, bob, upload, django_capture_on_commit_callbacks
):
    photos = [upload(alice, lon, lat) for lon, lat in around(PARIS, 6, 2.0, seeded(15))]
    upload(bob, *LONDON)
    files = [Path(photo.image.path) for photo in photos]
    with django_capture_on_commit_callbacks(execute=True):
        deleted = delete_submissions(Submission.objects.filter(owner=alice))
    assert deleted == 6
    assert total_at(MIN_LEVEL) == 1
    assert not any(path.exists() for path in files)


def test_rebuild_counts_what_was_written_around_the_app(alice, bob, upload):
    rng = seeded(11)
    for lon, lat in around(PARIS, 8, 1.0, rng):
        upload(bob, lon, lat)
    counted_one_by_one = counts()
    # Rows written around the pipeline and history/deletion.py are not counted until a rebuild.
    seed(alice, around(LONDON, 30, 1, rng))
    assert total_at(MIN_LEVEL) == 8

    output = StringIO()
    call_command("rebuild_map_cells", stdout=output)

    assert "Counted 38 located photos" in output.getvalue()
    assert total_at(MIN_LEVEL) == 38
    delete_submissions(Submission.objects.filter(owner=alice))
    rebuilt_then_deleted = {cell: value for cell, value in counts().items() if value[0]}
    assert rebuilt_then_deleted.keys() == counted_one_by_one.keys()
    for cell, (count, lon_sum, lat_sum) in counted_one_by_one.items():
        assert rebuilt_then_deleted[cell][0] == count
        assert rebuilt_then_deleted[cell][1:] == pytest.approx((lon_sum, lat_sum))


def test_a_box_ending_on_a_cell_edge_does_not_read_the_next_cells(alice, staff, client):
    level = 8
    side = cell_side(level)
    seed(alice, around((-10, 50), 210, 1.0, seeded(16)))  # west of 0°
    seed(alice, [(0.5, 50.0)])  # east of 0°, in the column that starts at 0°
    rebuild(Submission.objects.all())
    body = everyone(client, staff, f"{-16 * side},40,0,{40 + 16 * side}")  # ends on 0°
    assert level_for(16 * side, 16 * side, side) == level  # the grid asks for 1.40625°
    assert body["photo_count"] == 210


# --- the staff map reads them -------------------------------------------------------


def everyone(client, staff, bbox: str) -> dict:
    response = get(client, staff, bbox=bbox, all="true")
    assert response.status_code == 200, response.content
    return response.json()


def test_everyones_photos_in_a_big_box_come_from_the_counted_cells(client, alice, bob, staff):
    rng = seeded(12)
    seed(alice, around(LONDON, 130, 0.05, rng))
    seed(bob, around(PARIS, 90, 0.05, rng))
    rebuild(Submission.objects.all())

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
    seed(alice, around(PARIS, 210, 0.01, rng))
    level = level_for(10, 10, 10 / 16)
    side = cell_side(level)
    column, _ = cell_of(*PARIS, level)
    cell_west_edge = column * side - 180
    # The box starts between the cell's west edge and Paris; one photo west of the box
    # but in the same cell.
    box_west = (cell_west_edge + PARIS[0] - 0.02) / 2
    seed(alice, [((cell_west_edge + box_west) / 2, PARIS[1])])
    assert cell_west_edge < box_west < PARIS[0] - 0.02
    rebuild(Submission.objects.all())

    body = everyone(client, staff, f"{box_west},44,{box_west + 10},54")

    assert level_for(10, 10, 10 / 16) == level
    assert body["photo_count"] == 211
    # Asked for her own photos, the same box is clustered on request: exactly 210.
    assert get(client, alice, bbox=f"{box_west},44,{box_west + 10},54").json()["photo_count"] == 210


def test_a_small_box_of_everyones_photos_is_clustered_on_request(client, alice, staff):
    seed(alice, around(LONDON, 210, 0.05, seeded(14)))
    rebuild(Submission.objects.all())
    body = everyone(client, staff, "-0.6,51.2,0.4,51.8")  # a city: 1° across
    assert body["clustered"] is True
    assert body["photo_count"] == 210
    assert math.isclose(sum(feature["properties"]["count"] for feature in body["features"]), 210)


# --- several app servers at once (PostgreSQL's row locks) ------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_deletes_of_one_photo_at_once_count_it_out_once(alice, upload, database_cluster):
    """A double click: the first delete is still in its transaction when the second
    arrives; the second waits for the row, then finds it gone."""
    upload(alice, *LONDON)
    photo = upload(alice, *LONDON)
    stale_copy = Submission.objects.get(pk=photo.pk)
    first_deleted = threading.Event()
    errors = []

    def first_request():
        try:
            with transaction.atomic():
                delete_submissions(Submission.objects.filter(pk=photo.pk))
                first_deleted.set()
                time.sleep(0.5)  # still in the transaction: the row stays locked
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=first_request)
    thread.start()
    assert first_deleted.wait(10)
    delete_submission(stale_copy)  # waits for the first request's commit
    thread.join()

    assert errors == []
    assert Submission.objects.count() == 1
    assert total_at(MIN_LEVEL) == total_at(MAX_LEVEL) == 1
