"""Everyone's photos counted per grid cell, kept current as photos come and go, so that
the staff map over a million photos reads its clusters instead of computing them.

Clustering on request (geo/clusters.py) groups every photo in the box. For one user's
photos that is quick; for everyone's it is not: a 10° x 10° box over western Europe
holds 187,709 of the benchmark's 1,000,000 photos, and PostGIS takes about 0.6 s to
group them. So each photo is also counted, when it is saved, in one cell of every grid
level, and subtracted when it is deleted: a write costs one more statement, a read of
any box at most a few hundred rows (`make bench` measures it).

Level L cuts the world into square cells of 360 / 2**L degrees: level 2 has 90° cells,
level 12 cells of 0.088° (about 10 km). A cell keeps the number of its photos and the
sums of their longitudes and latitudes, so its cluster is drawn at their centroid.

The trade-off: a cell is counted whole, so a cell on the edge of the box also counts its
photos just outside it. Boxes too small or too thin for whole cells are clustered on
request instead, which is quick for them.

The counts change in the same transaction as the photos, on the app's write paths:
history/records.py (upload) and history/deletion.py (delete, cleanup_storage, the admin,
a deleted user's photos). Rows written any other way (a shell, bulk_create, COPY, SQL, a
restored backup) are not counted: `python manage.py rebuild_map_cells` (a history command,
as it reads the submissions) counts again.

Several app servers write at once, so the counts are changed with one upsert per
transaction, taking its cells in one order, (level, x, y): two transactions then never
wait on each other in a circle (a deadlock), and deleting a user's 10,000 photos holds
the busiest cells for one statement, not for 10,000.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db import connection, transaction
from django.db.models import F, FloatField, Func

from geo.models import MapCell

MIN_LEVEL, MAX_LEVEL = 2, 12
LEVELS = range(MIN_LEVEL, MAX_LEVEL + 1)
# A box is served from cells when it spans at least this many of them each way: the
# cells on its edge are then a small part of the answer.
MIN_CELLS_ACROSS = 4


def cell_side(level: int) -> float:
    return 360.0 / 2**level


def cell_of(longitude: float, latitude: float, level: int) -> tuple[int, int]:
    """The (column, row) of the cell holding a position; 180°E and 90°N fall in the last
    column and row."""
    side = cell_side(level)
    column = min(math.floor((longitude + 180.0) / side), 2**level - 1)
    row = min(math.floor((latitude + 90.0) / side), 2 ** (level - 1) - 1)
    return column, row


def level_for(width: float, height: float, grid_size: float) -> int | None:
    """The finest level whose cells are at least grid_size degrees wide, or None when
    the box should be clustered on request: it needs finer cells than MAX_LEVEL, or it
    is less than MIN_CELLS_ACROSS cells wide or high."""
    level = max(MIN_LEVEL, math.floor(math.log2(360.0 / grid_size)))
    if level > MAX_LEVEL:
        return None
    side = cell_side(level)
    if min(width, height) < MIN_CELLS_ACROSS * side:
        return None
    return level


def cells_of(longitude: float, latitude: float) -> list[tuple[int, int, int]]:
    """(level, column, row) of the position's cell in every level, coarsest first."""
    return [(level, *cell_of(longitude, latitude, level)) for level in LEVELS]


CellChanges = dict[tuple[int, int, int], list]  # (level, x, y) -> [count, lon sum, lat sum]
ROWS_PER_STATEMENT = 5_000  # 6 parameters each: under PostgreSQL's and SQLite's limits


def photos_added(locations) -> None:
    """Counts photos in; a None location (no position) is skipped."""
    apply_changes(changes_for(positions_of(locations), +1))


def photos_removed(locations) -> None:
    """Counts photos out; the caller makes sure they were really there (history/deletion.py
    locks the rows first, so a photo deleted twice at once is counted out once)."""
    apply_changes(changes_for(positions_of(locations), -1))


def positions_of(locations) -> Iterator[tuple[float, float]]:
    return ((location.x, location.y) for location in locations if location is not None)


def changes_for(positions: Iterable[tuple[float, float]], sign: int) -> CellChanges:
    """What adding (sign=1) or removing (sign=-1) photos at these (longitude, latitude)
    positions changes in each cell of every level."""
    changes: CellChanges = defaultdict(lambda: [0, 0.0, 0.0])
    for longitude, latitude in positions:
        for cell in cells_of(longitude, latitude):
            change = changes[cell]
            change[0] += sign
            change[1] += sign * longitude
            change[2] += sign * latitude
    return changes


def apply_changes(changes: CellChanges) -> None:
    """Adds the changes to the cells that exist and creates the others.

    INSERT ... ON CONFLICT DO UPDATE (an "upsert", the same SQL on PostgreSQL and SQLite)
    does both in one statement, safely when several app servers write at once. Django's
    bulk_create(update_conflicts=True) can only replace a row's values, not add to them,
    hence SQL. A cell left with 0 photos stays (it is not drawn): deleting it would be
    one more statement racing with the next upload.
    """
    table = connection.ops.quote_name(MapCell._meta.db_table)
    cells = sorted(changes.items())  # one lock order for every transaction
    with connection.cursor() as cursor:
        for start in range(0, len(cells), ROWS_PER_STATEMENT):
            chunk = cells[start : start + ROWS_PER_STATEMENT]
            parameters = [value for cell, change in chunk for value in (*cell, *change)]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (level, x, y, photo_count, longitude_sum, latitude_sum) "  # noqa: S608 - our own table name
                f"VALUES {values} ON CONFLICT (level, x, y) DO UPDATE SET "
                f"photo_count = {table}.photo_count + excluded.photo_count, "
                f"longitude_sum = {table}.longitude_sum + excluded.longitude_sum, "
                f"latitude_sum = {table}.latitude_sum + excluded.latitude_sum",
                parameters,
            )


def rebuild(photos, cell_model=MapCell) -> int:
    """Counts every located photo in `photos` again, from scratch; returns how many.
    (cell_model: the migration that first fills the table passes its own MapCell.)"""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Uploads and deletes wait until the new counts are in; otherwise one that
            # commits while the photos are read would be wiped out by the replacement.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"LOCK TABLE {connection.ops.quote_name(cell_model._meta.db_table)} "
                    "IN EXCLUSIVE MODE"
                )
        positions = (
            photos.filter(location__isnull=False)
            .annotate(
                longitude=Func(F("location"), function="ST_X", output_field=FloatField()),
                latitude=Func(F("location"), function="ST_Y", output_field=FloatField()),
            )
            .values_list("longitude", "latitude")
        )
        totals = changes_for(positions.iterator(chunk_size=20_000), +1)
        cell_model.objects.all().delete()
        cell_model.objects.bulk_create(
            (
                cell_model(
                    level=level, x=x, y=y, photo_count=count, longitude_sum=lon, latitude_sum=lat
                )
                for (level, x, y), (count, lon, lat) in totals.items()
            ),
            batch_size=5_000,
        )
    # Every photo is in exactly one cell of each level.
    return sum(count for (level, _, _), (count, _, _) in totals.items() if level == MIN_LEVEL)


def clusters_in(box, level: int) -> list[tuple[int, float, float]]:
    """(photo count, longitude, latitude) of each cell of `level` the box touches,
    biggest first."""
    first_column, first_row = cell_of(box.min_lon, box.min_lat, level)
    last_column, last_row = cell_of(box.max_lon, box.max_lat, level)
    # A box ending exactly on a cell's edge does not reach into that cell.
    side = cell_side(level)
    if last_column > first_column and (box.max_lon + 180.0) / side == last_column:
        last_column -= 1
    if last_row > first_row and (box.max_lat + 90.0) / side == last_row:
        last_row -= 1
    cells = MapCell.objects.filter(
        level=level,
        x__range=(first_column, last_column),
        y__range=(first_row, last_row),
        photo_count__gt=0,  # cells whose photos were all deleted stay, empty
    ).order_by("-photo_count", "x", "y")
    return [
        (count, longitude_sum / count, latitude_sum / count)
        for count, longitude_sum, latitude_sum in cells.values_list(
            "photo_count", "longitude_sum", "latitude_sum"
        )
    ]
