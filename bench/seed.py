"""Fills a freshly migrated bird.ai database with many users and submissions, fast.

A history page is only interesting to measure when the table is big: 1,000,000
submissions from 1,000 users, one of whom (HEAVY_USER) owns 10,000 of them. Rows
go in with COPY, PostgreSQL's bulk-load command: one statement streams every row,
many times faster than one INSERT per row. The values are made up but shaped
like real ones (storage keys, a five-species JSON list, a year of upload times), so
the rows and indexes are as big as real ones would be.

Most photos have a location, as a phone's GPS records it: clustered around cities
(the heavy user's mostly around home, Amsterdam), plus photos scattered over the
continents; some have none. bench/history.py measures the map's API on them.

The random generator has a fixed seed: every run measures the same data.
"""

import base64
import json
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

USERS = 1_000
SUBMISSIONS = 1_000_000
HEAVY_USER = "heavy-birder"  # the user whose history is measured
HEAVY_USER_SUBMISSIONS = 10_000
HISTORY_SPAN = timedelta(days=365)
RANDOM_SEED = 2026

# ImageNet bird classes, named as the classifier names them (classifier/labels.py).
SPECIES = (
    "junco", "goldfinch", "robin", "jay", "magpie", "chickadee", "house finch",
    "indigo bunting", "brambling", "bald eagle", "great grey owl", "hummingbird",
)  # fmt: skip
BIRD_THRESHOLD = 0.32  # settings.CLASSIFIER_BIRD_THRESHOLD's default
# Precomputed classifications, picked at random for each row: json.dumps for every
# one of a million rows would take longer than PostgreSQL takes to store them.
CLASSIFICATION_VARIANTS = 500
ROWS_PER_WRITE = 20_000  # lines sent to COPY in one piece

# Where photos are taken: (name, longitude, latitude, weight, spread in degrees).
# A city's photos are spread around it (a normal distribution: town, parks, coast).
CITIES = (
    ("Amsterdam, NL", 4.90, 52.37, 6, 0.25), ("Paris, FR", 2.35, 48.86, 8, 0.3),
    ("Brussels, BE", 4.35, 50.85, 3, 0.2), ("Cologne, DE", 6.96, 50.94, 3, 0.25),
    ("Frankfurt, DE", 8.68, 50.11, 3, 0.25), ("Munich, DE", 11.58, 48.14, 4, 0.3),
    ("Zurich, CH", 8.54, 47.37, 3, 0.2), ("Lyon, FR", 4.83, 45.76, 3, 0.25),
    ("London, GB", -0.13, 51.51, 9, 0.3), ("Berlin, DE", 13.40, 52.52, 5, 0.3),
    ("Madrid, ES", -3.70, 40.42, 5, 0.3), ("Rome, IT", 12.50, 41.90, 4, 0.3),
    ("Stockholm, SE", 18.07, 59.33, 2, 0.3), ("New York, US", -74.01, 40.71, 10, 0.3),
    ("Chicago, US", -87.63, 41.88, 5, 0.3), ("San Francisco, US", -122.42, 37.77, 5, 0.3),
    ("Los Angeles, US", -118.24, 34.05, 6, 0.4), ("Seattle, US", -122.33, 47.61, 3, 0.3),
    ("Toronto, CA", -79.38, 43.65, 4, 0.3), ("Mexico City, MX", -99.13, 19.43, 3, 0.3),
    ("Sao Paulo, BR", -46.63, -23.55, 4, 0.3), ("Tokyo, JP", 139.69, 35.69, 6, 0.3),
    ("Sydney, AU", 151.21, -33.87, 4, 0.3), ("Cape Town, ZA", 18.42, -33.92, 2, 0.3),
    ("Bangalore, IN", 77.59, 12.97, 3, 0.3),
)  # fmt: skip
# The rest are anywhere on a continent: (min lon, min lat, max lon, max lat, weight).
CONTINENTS = (
    (-10.0, 36.0, 30.0, 70.0, 3), (-125.0, 25.0, -67.0, 50.0, 4),
    (-80.0, -40.0, -35.0, 5.0, 1), (100.0, 20.0, 145.0, 45.0, 1),
    (113.0, -39.0, 153.0, -12.0, 1), (68.0, 8.0, 90.0, 30.0, 1),
)  # fmt: skip
SCATTERED = 0.25  # of the located photos, not near any city
NOT_LOCATED = 0.15  # photos without GPS data (a screenshot, location off)
HEAVY_USER_HOME = 0.8  # of the heavy user's located photos, around home
CAMERAS = ("Apple iPhone 15", "Google Pixel 8", "samsung SM-S911B", "Canon EOS R7", "")

SUBMISSION_COLUMNS = (
    "owner_id", "image", "thumbnail", "original_filename", "content_type", "byte_size",
    "width", "height", "sha256", "is_bird", "bird_probability", "top_species", "species",
    "model_name", "model_backend", "created_at", "location", "location_source",
    "altitude_m", "taken_at", "place", "camera",
)  # fmt: skip
USER_COLUMNS = (
    "username", "password", "email", "first_name", "last_name", "is_superuser", "is_staff",
    "is_active", "date_joined",
)  # fmt: skip


@dataclass(frozen=True)
class Seeded:
    heavy_user_id: int
    users: int
    submissions: int
    copy_seconds: float  # generating the rows and COPYing them in
    analyze_seconds: float  # ANALYZE afterwards


def seed(url: str) -> Seeded:
    """Adds USERS users and SUBMISSIONS submissions to the migrated database at `url`."""
    rng = random.Random(RANDOM_SEED)  # noqa: S311 - made-up data, not a secret
    started = time.perf_counter()
    with psycopg.connect(url) as connection:  # one transaction, committed at the end
        user_ids = copy_users(connection)
        heavy_user_id = user_ids[HEAVY_USER]
        other_ids = [user_id for name, user_id in user_ids.items() if name != HEAVY_USER]
        with indexes_set_aside(connection, "history_submission"):
            copy_submissions(connection, owners(heavy_user_id, other_ids, rng), heavy_user_id, rng)
    copied = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as connection:
        # The planner's statistics for the new rows, which autovacuum would gather
        # a little later: without them it may pick a slow plan for the first queries.
        connection.execute("ANALYZE auth_user, history_submission")
    return Seeded(
        heavy_user_id=heavy_user_id,
        users=len(user_ids),
        submissions=SUBMISSIONS,
        copy_seconds=copied - started,
        analyze_seconds=time.perf_counter() - copied,
    )


def copy_users(connection: psycopg.Connection) -> dict[str, int]:
    """USERS users who cannot log in with a password; returns their ids by name.

    bench/history_probe.py later logs HEAVY_USER in with Django's own login code.
    """
    names = [HEAVY_USER, *(f"birder{number:04d}" for number in range(1, USERS))]
    joined = datetime.now(UTC) - HISTORY_SPAN - timedelta(days=1)
    columns = ", ".join(USER_COLUMNS)
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY auth_user ({columns}) FROM STDIN") as copy:
            for name in names:
                # "!" starts what Django calls an unusable password: no log-in possible.
                copy.write_row(
                    (name, "!", f"{name}@example.org", "", "", False, False, True, joined)
                )
        cursor.execute("SELECT username, id FROM auth_user WHERE username = ANY(%s)", [names])
        return dict(cursor.fetchall())


@contextmanager
def indexes_set_aside(connection: psycopg.Connection, table: str) -> Iterator[None]:
    """Drops the table's indexes, unique constraints and foreign keys, and makes them
    again, exactly as they were defined, when the block ends.

    The advice of PostgreSQL's "Populating a Database": building an index once, by
    sorting a million rows, is much faster than inserting into it a million times in
    random order, and checking a foreign key for the whole table at once (one join)
    much faster than once per row, which a deferred key does at COMMIT. The primary
    key stays: its ids arrive in order, which costs little.
    """
    constraints = connection.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype IN ('u', 'f')",
        [table],
    ).fetchall()
    # Indexes of their own; those behind the primary key and unique constraints go
    # and come back with their constraint.
    indexes = connection.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname"
        " NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [table, table],
    ).fetchall()
    table_name = sql.Identifier(table)
    for name, _ in constraints:
        connection.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(table_name, sql.Identifier(name))
        )
    for name, _ in indexes:
        connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    yield
    # More sort memory than the default 64 MB: each index is then sorted in one go.
    connection.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _, definition in indexes:
        connection.execute(definition)
    for name, definition in constraints:
        connection.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(table_name, sql.Identifier(name))
            + sql.SQL(definition)
        )


def owners(heavy_user_id: int, other_ids: list[int], rng: random.Random) -> list[int]:
    """Each submission's owner, in upload order: the heavy user's uploads are spread
    over the year among everybody else's, not stored side by side."""
    others = SUBMISSIONS - HEAVY_USER_SUBMISSIONS
    owner_ids = [heavy_user_id] * HEAVY_USER_SUBMISSIONS + rng.choices(other_ids, k=others)
    rng.shuffle(owner_ids)
    return owner_ids


def copy_submissions(
    connection: psycopg.Connection, owner_ids: list[int], heavy_user_id: int, rng: random.Random
) -> None:
    """COPY ... FREEZE writes the rows as already visible to every transaction, as
    VACUUM would mark them some time after a normal load. COUNT(*) can then count a
    user's rows in the index alone (an index-only scan), as it does on a table that
    autovacuum keeps up with. FREEZE needs a table emptied in the same transaction.
    """
    columns = ", ".join(SUBMISSION_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE history_submission")
        statement = f"COPY history_submission ({columns}) FROM STDIN WITH (FREEZE)"
        with cursor.copy(statement) as copy:
            lines: list[str] = []
            for line in submission_lines(owner_ids, heavy_user_id, rng):
                lines.append(line)
                if len(lines) == ROWS_PER_WRITE:
                    copy.write("".join(lines))
                    lines.clear()
            copy.write("".join(lines))


def submission_lines(owner_ids: list[int], heavy_user_id: int, rng: random.Random) -> Iterator[str]:
    """One line of COPY's text format per submission, oldest first.

    Text format: tab-separated values, one row per line, \\N for NULL. None of the
    values made here contains a tab, a newline or a backslash, so none needs escaping.
    """
    classifications = [classification(rng) for _ in range(CLASSIFICATION_VARIANTS)]
    start = datetime.now(UTC) - HISTORY_SPAN
    step_seconds = HISTORY_SPAN.total_seconds() / len(owner_ids)
    for number, owner_id in enumerate(owner_ids):
        name = base64.urlsafe_b64encode(rng.randbytes(16)).rstrip(b"=").decode()
        key = f"submissions/{owner_id}/{name}"
        # Evenly spread over the year, with a little jitter: already in time order,
        # as rows arrive in a real table.
        created_at = start + timedelta(seconds=(number + rng.random()) * step_seconds)
        width, height = (4032, 3024) if rng.random() < 0.7 else (3024, 4032)
        is_bird, probability, top_species, species = rng.choice(classifications)
        yield (
            f"{owner_id}\t{key}.jpg\t{key}-thumbnail.webp\tIMG_{number % 10_000:04d}.jpg\t"
            f"image/jpeg\t{rng.randrange(1_500_000, 6_000_000)}\t{width}\t{height}\t"
            f"{rng.randbytes(32).hex()}\t{is_bird}\t{probability}\t{top_species}\t{species}\t"
            f"efficientnet-lite0-imagenet\tonnx\t{created_at.isoformat()}\t"
            f"{photo_metadata(owner_id == heavy_user_id, created_at, rng)}\n"
        )


def photo_metadata(heavy_user: bool, created_at: datetime, rng: random.Random) -> str:
    """location, location_source, altitude_m, taken_at, place and camera as COPY text,
    as geo/exif.py and geo/places.py would have filled them."""
    if rng.random() < NOT_LOCATED:
        return "\\N\t\t\\N\t\\N\t\t"
    if heavy_user and rng.random() < HEAVY_USER_HOME:
        city = CITIES[0]  # home
    elif rng.random() < SCATTERED:
        city = None
    else:
        city = rng.choices(CITIES, CITY_WEIGHTS)[0]
    if city is None:
        min_lon, min_lat, max_lon, max_lat, _ = rng.choices(CONTINENTS, CONTINENT_WEIGHTS)[0]
        longitude, latitude = rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat)
        place = ""
    else:
        name, city_lon, city_lat, _, spread = city
        longitude, latitude = rng.gauss(city_lon, spread), rng.gauss(city_lat, spread)
        place = f"near {name}"
    taken_at = created_at - timedelta(seconds=rng.randrange(60, 30 * 86_400))
    return (
        f"SRID=4326;POINT({longitude:.6f} {latitude:.6f})\texif\t{rng.uniform(0, 400):.1f}\t"
        f"{taken_at.isoformat()}\t{place}\t{rng.choice(CAMERAS)}"
    )


CITY_WEIGHTS = [city[3] for city in CITIES]
CONTINENT_WEIGHTS = [continent[4] for continent in CONTINENTS]


def classification(rng: random.Random) -> tuple[str, float, str, str]:
    """(is_bird as COPY text, bird probability, top species, the top five as JSON)."""
    labels = rng.sample(SPECIES, 5)
    # Five decreasing probabilities, as a softmax's top five look.
    weights = sorted((rng.random() ** 3 for _ in range(5)), reverse=True)
    total = sum(weights) / rng.uniform(0.15, 1.0)
    probabilities = [round(weight / total, 4) for weight in weights]
    species = [
        {"label": label, "probability": probability}
        for label, probability in zip(labels, probabilities, strict=True)
    ]
    bird_probability = round(min(1.0, sum(probabilities) + rng.uniform(0, 0.05)), 4)
    is_bird = "t" if bird_probability >= BIRD_THRESHOLD else "f"
    return is_bird, bird_probability, labels[0], json.dumps(species)
