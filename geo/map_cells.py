"""Everyone's photos counted per grid cell, kept current as photos come and go, so that
the staff map over a million photos reads its clusters instead of computing them.

Clustering on request (geo/locations.py) groups every photo in the box. For one user's
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

The counts follow Submission saves and deletes through Django's signals (also a user's
photos deleted with the user). Rows written around the ORM (bulk_create, COPY, SQL)
are not counted: `python manage.py rebuild_map_cells` counts everything again.
"""

import math
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import F, FloatField, Func, Q

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


def change_counts(longitude: float, latitude: float, sign: int) -> None:
    """Adds (sign=1) or subtracts (sign=-1) one photo at this position in every level.

    One INSERT ... ON CONFLICT DO UPDATE (an "upsert", the same SQL on PostgreSQL and
    SQLite) adds to the cells that exist and creates the others, safely when several app
    servers write at once. Django's bulk_create(update_conflicts=True) can only replace a
    row's values, not add to them, hence SQL. The cells are always taken in level order,
    so two photos saved at once never wait on each other in a circle (a deadlock).
    """
    cells = cells_of(longitude, latitude)
    parameters = []
    for level, column, row in cells:
        parameters += [level, column, row, sign, sign * longitude, sign * latitude]
    table = connection.ops.quote_name(MapCell._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(cells))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (level, x, y, photo_count, longitude_sum, latitude_sum) "  # noqa: S608 - our own table name
            f"VALUES {values} ON CONFLICT (level, x, y) DO UPDATE SET "
            f"photo_count = {table}.photo_count + excluded.photo_count, "
            f"longitude_sum = {table}.longitude_sum + excluded.longitude_sum, "
            f"latitude_sum = {table}.latitude_sum + excluded.latitude_sum",
            parameters,
        )
    if sign < 0:  # a cell left without photos goes: it would be drawn as a cluster of 0
        any_of_them = Q()
        for level, column, row in cells:
            any_of_them |= Q(level=level, x=column, y=row)
        MapCell.objects.filter(any_of_them, photo_count__lte=0).delete()


def photo_added(location) -> None:
    if location is not None:
        change_counts(location.x, location.y, +1)


def photo_removed(location) -> None:
    if location is not None:
        change_counts(location.x, location.y, -1)


def rebuild(photos, cell_model=MapCell) -> int:
    """Counts every located photo in `photos` again, from scratch; returns how many.
    (cell_model: the migration that first fills the table passes its own MapCell.)"""
    positions = (
        photos.filter(location__isnull=False)
        .annotate(
            longitude=Func(F("location"), function="ST_X", output_field=FloatField()),
            latitude=Func(F("location"), function="ST_Y", output_field=FloatField()),
        )
        .values_list("longitude", "latitude")
    )
    totals: dict[tuple[int, int, int], list] = defaultdict(lambda: [0, 0.0, 0.0])
    counted = 0
    for longitude, latitude in positions.iterator(chunk_size=20_000):
        counted += 1
        for cell in cells_of(longitude, latitude):
            total = totals[cell]
            total[0] += 1
            total[1] += longitude
            total[2] += latitude
    cells = [
        cell_model(level=level, x=x, y=y, photo_count=count, longitude_sum=lon, latitude_sum=lat)
        for (level, x, y), (count, lon, lat) in totals.items()
    ]
    with transaction.atomic():
        cell_model.objects.all().delete()
        cell_model.objects.bulk_create(cells, batch_size=5_000)
    return counted


def clusters_in(box, level: int) -> list[tuple[int, float, float]]:
    """(photo count, longitude, latitude) of each cell of `level` the box touches,
    biggest first."""
    first_column, first_row = cell_of(box.min_lon, box.min_lat, level)
    last_column, last_row = cell_of(box.max_lon, box.max_lat, level)
    cells = MapCell.objects.filter(
        level=level,
        x__range=(first_column, last_column),
        y__range=(first_row, last_row),
        photo_count__gt=0,
    ).order_by("-photo_count", "x", "y")
    return [
        (count, longitude_sum / count, latitude_sum / count)
        for count, longitude_sum, latitude_sum in cells.values_list(
            "photo_count", "longitude_sum", "latitude_sum"
        )
    ]
