"""Fills a freshly migrated bird.ai database with many users and submissions, fast.

A history page is only interesting to measure when the table is big: 1,000,000
submissions from 1,000 users, one of whom (HEAVY_USER) owns 10,000 of them. Rows
go in with COPY, PostgreSQL's bulk-load command: one statement streams every row,
many times faster than one INSERT per row. The values are made up but shaped
like real ones (storage keys, a five-species JSON list, a year of upload times), so
the rows and indexes are as big as real ones would be.

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

SUBMISSION_COLUMNS = (
    "owner_id", "image", "thumbnail", "original_filename", "content_type", "byte_size",
    "width", "height", "sha256", "is_bird", "bird_probability", "top_species", "species",
    "model_name", "model_backend", "created_at",
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
            copy_submissions(connection, owners(heavy_user_id, other_ids, rng), rng)
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
    connection: psycopg.Connection, owner_ids: list[int], rng: random.Random
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
            for line in submission_lines(owner_ids, rng):
                lines.append(line)
                if len(lines) == ROWS_PER_WRITE:
                    copy.write("".join(lines))
                    lines.clear()
            copy.write("".join(lines))


def submission_lines(owner_ids: list[int], rng: random.Random) -> Iterator[str]:
    """One line of COPY's text format per submission, oldest first.

    Text format: tab-separated values, one row per line. None of the values made here
    contains a tab, a newline or a backslash, so none needs escaping.
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
            f"efficientnet-lite0-imagenet\tonnx\t{created_at.isoformat()}\n"
        )


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
