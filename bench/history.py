"""A user's history when the table is big, and a photo's way to the browser.

The history: 1,000,000 submissions from 1,000 users in PostgreSQL + PostGIS, 10,000
of them the measured user's (bench/seed.py), served by gunicorn set up as in
production. Page 1 of the list API and of the history page are each compared with
their bare SQL: the statements Django sent for that page (a COUNT(*) for the number
of pages and a LIMIT 24 for the rows, recorded by bench/history_probe.py), run by
psycopg alone against the same database in the same run. The ratio is what the app
adds on top of the database: authentication, model objects, JSON or HTML, HTTP.

The map: /api/v1/locations for a 10°x10° box over western Europe, where a quarter
of the 1,000,000 photos' locations lie, as a staff user sees everyone's (all=true)
and as the user sees their own; more than 200 photos come back as clusters: the user's
grouped by PostGIS on request, everyone's read from the cells counted in advance
(geo/map_cells.py; after COPY, `manage.py rebuild_map_cells` counts them). Again
against its bare SQL, with the size of the GeoJSON answer. Then whether the cells are
needed: the SQL of everyone's photos clustered on request, as the user's own are, the
least the API would take without them (against the API with them, and 30 ms).

The photo: from the CDN's cache, from Django and from S3, measured in bench/delivery.py
with these servers.

Last, the list API again with the photos on S3, where the app signs each of a page's
48 links: S3 presigned URLs, or CloudFront signed URLs. Two more server starts, a
few seconds, to show what signing costs.
"""

import json
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import psycopg

from bench.delivery import delivery_rows, web_photo
from bench.load import BadAnswer
from bench.seed import HEAVY_USER, HEAVY_USER_SUBMISSIONS, SUBMISSIONS, seed
from bench.serving import WORKERS, server_environment
from bench.table import Row, Target
from bench.timing import median, percentile
from tooling.servers import Gunicorn, Nginx, PostgresCluster, SeaweedS3, run_python
from tooling.servers.net import Response, http_get
from tooling.servers.nginx import throwaway_rsa_key

if TYPE_CHECKING:
    from bench.context import BenchContext

PAGE_SIZE = 24  # history/api.py and history/views.py
WARM_UP = 10  # untimed requests first: connections, caches, lazy imports
MAX_REQUESTS, MAX_SECONDS = 200, 10.0  # per measured series, whichever comes first
SUBPROCESS_TIMEOUT_SECONDS = 120

BUCKET = "bench-photos"

LIST_TARGET_MS = 20.0
# The map: a 10° x 10° box from Paris and Lyon to Amsterdam and Munich.
LOCATIONS_API = "/api/v1/locations?bbox=2,44,12,54"
LOCATIONS_TARGET_MS = 30.0
LOCATIONS_TARGET_KB = 200.0
# Its series are shorter: a query over a million points may take a while, and the
# bench a minute at most.
LOCATIONS_WARM_UP, LOCATIONS_SECONDS = 2, 2.0
# Without the cells, everyone's clusters take about a second and a half each: a few runs.
NO_CELLS_WARM_UP, NO_CELLS_SECONDS = 1, 5.0

LIST_API = "/api/v1/submissions"
HISTORY_PAGE = "/history/"
LIST_P50 = "history list API p50"  # also the baseline of the S3 rows

T = TypeVar("T")


def history_rows(context: "BenchContext") -> list[Row]:
    """Starts PostGIS, S3, the CDN and gunicorn (one app server at a time), fills
    the database, then measures; everything stops when it returns."""
    # Every server goes on the stack as soon as it exists, so all of them are stopped
    # when the section ends, fails or is interrupted (Ctrl-C), even while starting.
    with ExitStack() as servers:
        postgres = servers.enter_context(closing(PostgresCluster()))
        postgres.start()
        environment = app_environment(context, postgres.url)
        probe = prepare_database(postgres.url, environment)
        app = servers.enter_context(closing(Gunicorn(environment, workers=WORKERS)))
        app.start()
        rows = page_rows(app.url, postgres.url, probe)
        rows += locations_rows(app.url, postgres.url, probe)
        local_list_ms = next(row.value for row in rows if row.name == LIST_P50)

        s3 = servers.enter_context(closing(SeaweedS3()))
        s3.start()
        s3.create_bucket(BUCKET, public_read=True)
        cdn = servers.enter_context(closing(Nginx.cdn(s3.endpoint_url, BUCKET)))
        cdn.start()
        rows += delivery_rows(
            web_photo(context),
            newest_photo_key(app.url, probe),
            media_root=context.var_dir / "media",
            app=app,
            s3=s3,
            bucket=BUCKET,
            cdn=cdn,
        )
        app.close()  # one gunicorn at a time on these 2 cores
        rows += s3_link_rows(
            servers,
            environment,
            s3,
            cdn,
            probe,
            workdir=context.workdir,
            local_list_ms=local_list_ms,
        )
    return rows


# --- The database -------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """What bench/history_probe.py reported: credentials and the SQL of each page."""

    token: str
    session_id: str
    api_sql: list[str]  # every statement of one request, in order
    page_sql: list[str]
    staff_token: str  # a staff user's, for all=true
    own_locations_sql: list[str]  # LOCATIONS_API, the user's own photos
    all_locations_sql: list[str]  # LOCATIONS_API with all=true, as staff
    uncounted_locations_sql: list[str]  # the same clustered on request, without the cells
    session_options: str  # libpq `options` of Django's connections: the bare SQL's too

    @staticmethod
    def reading_photos(statements: list[str]) -> list[str]:
        """The page's own statements, which read the submissions or the map's cell
        counts; the others find the session, user or token."""
        tables = ('"history_submission"', '"geo_mapcell"')
        return [sql for sql in statements if any(table in sql for table in tables)]


def app_environment(context: "BenchContext", database_url: str) -> dict[str, str]:
    """bench/serving.py's production-like server, on the benchmark's PostGIS."""
    environment = server_environment(context.var_dir, context.onnx_model, context.threads)
    return {**environment, "DATABASE_URL": database_url}


def prepare_database(url: str, environment: dict[str, str]) -> Probe:
    """Migrates the empty database, fills it and asks Django for a token, a session
    and the SQL of each page."""
    manage(["migrate", "--noinput"], environment)
    # DEBUG is off, so pages link static files by their hashed names, which only
    # collectstatic's manifest knows.
    manage(["collectstatic", "--noinput"], environment)
    seeded = seed(url)
    print(
        f"bench: seeded {seeded.users} users and {seeded.submissions:,} submissions with COPY "
        f"in {seeded.copy_seconds:.1f} s, ANALYZE {seeded.analyze_seconds:.1f} s",
        file=sys.stderr,
    )
    # COPY goes around Django, so the map's cell counts (geo/map_cells.py) are made after.
    started = time.perf_counter()
    manage(["rebuild_map_cells"], environment)
    print(f"bench: rebuild_map_cells in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    # Autovacuum would otherwise get to the new cells during the measurements, which
    # then time its work as well; a database in use has long been vacuumed.
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
    print(f"bench: VACUUM (ANALYZE) in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    probe = run_python(
        ["-m", "bench.history_probe", HEAVY_USER, LOCATIONS_API],
        environment,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
    )
    return Probe(**json.loads(probe))


def manage(arguments: list[str], environment: dict[str, str]) -> str:
    arguments = ["manage.py", *arguments, "--verbosity=0"]
    return run_python(arguments, environment, timeout=SUBPROCESS_TIMEOUT_SECONDS)


def bare_sql_ms(url: str, options: str, statements: list[str], **limits: float) -> list[float]:
    """Milliseconds to run `statements` one after the other and fetch every row.

    Like Django: one connection kept open (CONN_MAX_AGE) with the same session settings
    (`options`), each statement its own transaction (autocommit), sent as plain SQL
    text without preparing it.
    """
    with psycopg.connect(url, autocommit=True, options=options) as connection:

        def run_all() -> None:
            for statement in statements:
                connection.execute(statement, prepare=False).fetchall()

        return sample_ms(run_all, **limits)


# --- The pages ----------------------------------------------------------------------------


def page_rows(app_url: str, database_url: str, probe: Probe) -> list[Row]:
    api_sql = Probe.reading_photos(probe.api_sql)
    page_sql = Probe.reading_photos(probe.page_sql)
    api_sql_ms = bare_sql_ms(database_url, probe.session_options, api_sql)
    page_sql_ms = (
        api_sql_ms
        if page_sql == api_sql
        else bare_sql_ms(database_url, probe.session_options, page_sql)
    )

    api_ms = sample_ms(get(app_url + LIST_API, bearer=probe.token), check_list_answer("/media/"))
    page_ms = sample_ms(get(app_url + HISTORY_PAGE, session=probe.session_id), check_history_page)

    table = f"{SUBMISSIONS:,} rows, {HEAVY_USER_SUBMISSIONS:,} the user's"
    api_how = (
        f"GET {LIST_API} page 1, Bearer token, gunicorn {WORKERS} workers, PostGIS with "
        f"{table}; {len(api_ms)} sequential requests; SQL: token + the 2 below"
    )
    page_how = (
        f"GET {HISTORY_PAGE} page 1 (HTML, 24 thumbnails), session cookie; "
        f"{len(page_ms)} sequential requests; SQL: session, user + the 2 below"
    )
    same = "the same 2 for both pages" if page_sql == api_sql else "the list API's"
    sql_how = (
        f"COUNT(*) + LIMIT {PAGE_SIZE}, the exact SQL Django sent ({same}), psycopg "
        f"alone on one connection; {len(api_sql_ms)} runs"
    )
    target = Target(LIST_TARGET_MS, f"≤ {LIST_TARGET_MS:.0f} ms")
    sql_p50, sql_p95 = median(api_sql_ms), percentile(api_sql_ms, 95)
    page_sql_p50, page_sql_p95 = median(page_sql_ms), percentile(page_sql_ms, 95)
    return [
        versus_sql(LIST_P50, median(api_ms), sql_p50, api_how),
        versus_sql("history list API p95", percentile(api_ms, 95), sql_p95, "the same", target),
        versus_sql("history page p50", median(page_ms), page_sql_p50, page_how),
        versus_sql("history page p95", percentile(page_ms, 95), page_sql_p95, "the same"),
        Row("  of which bare SQL p50", sql_p50, "ms", sql_how),
    ]


def versus_sql(name: str, ms: float, sql_ms: float, how: str, target: Target | None = None) -> Row:
    return Row(name, ms, "ms", how, baseline=sql_ms, baseline_name="bare SQL", target=target)


def check_list_answer(link_mark: str = "") -> Callable[[Response], None]:
    """Checks for page 1 of the user's list, whose links contain `link_mark`."""

    def check(answer: Response) -> None:
        expect_ok(answer)
        page = json.loads(answer.body)
        if page["count"] != HEAVY_USER_SUBMISSIONS or len(page["items"]) != PAGE_SIZE:
            raise BadAnswer(f"unexpected list: count {page['count']}, {len(page['items'])} items")
        if link_mark not in page["items"][0]["thumbnail_url"]:
            raise BadAnswer(f"{link_mark} not in {page['items'][0]['thumbnail_url']}")

    return check


def check_history_page(answer: Response) -> None:
    expect_ok(answer)
    pages = -(-HEAVY_USER_SUBMISSIONS // PAGE_SIZE)
    if f"Page 1 of {pages}".encode() not in answer.body:
        raise BadAnswer(f"not page 1 of {pages} of the history: {answer.body[:300]!r}")


# --- The map ------------------------------------------------------------------------------


def locations_rows(app_url: str, database_url: str, probe: Probe) -> list[Row]:
    """LOCATIONS_API as a staff user sees everyone's photos (all=true), then as the
    user sees their own, each against its bare SQL: the first 201 photos in the box
    (one more than fit says "cluster") and, as there are more, the clusters."""
    limits = {"warm_up": LOCATIONS_WARM_UP, "max_seconds": LOCATIONS_SECONDS}
    rows = []
    series = [
        (
            "all=true",
            "everyone's",
            f"{LOCATIONS_API}&all=true",
            probe.staff_token,
            probe.all_locations_sql,
        ),
        ("own", "the user's own", LOCATIONS_API, probe.token, probe.own_locations_sql),
    ]
    for label, whose, path, token, statements in series:
        sql = Probe.reading_photos(statements)
        sql_ms = bare_sql_ms(database_url, probe.session_options, sql, **limits)
        answers: list[Response] = []

        def check(answer: Response, answers: list[Response] = answers) -> None:
            expect_ok(answer)
            answers.append(answer)

        api_ms = sample_ms(get(app_url + path, bearer=token), check, **limits)
        answer = answers[-1]
        collection = json.loads(answer.body)
        if not collection["clustered"]:
            raise BadAnswer(f"{path}: {collection['photo_count']} photos, not clustered")
        kilobytes = len(answer.body) / 1000
        name = f"locations API, {label}"
        how = (
            f"GET {path}, {whose} photos: {collection['photo_count']:,} of "
            f"{SUBMISSIONS:,} in the box, {len(collection['features'])} clusters; Bearer "
            f"token, gunicorn {WORKERS} workers; {len(api_ms)} sequential requests"
        )
        sql_how = (
            f"the exact SQL Django sent ({len(sql)} statements: is there a 201st photo in the "
            f"box, then the clusters), psycopg alone; {len(sql_ms)} runs"
        )
        target = Target(LOCATIONS_TARGET_MS, f"≤ {LOCATIONS_TARGET_MS:.0f} ms")
        size_target = Target(LOCATIONS_TARGET_KB, f"≤ {LOCATIONS_TARGET_KB:.0f} KB")
        rows += [
            versus_sql(f"{name} p50", median(api_ms), median(sql_ms), how),
            versus_sql(
                f"{name} p95", percentile(api_ms, 95), percentile(sql_ms, 95), "the same", target
            ),
            Row("  of which bare SQL p50", median(sql_ms), "ms", sql_how),
            Row(
                f"{name} response size",
                kilobytes,
                "KB",
                "GeoJSON FeatureCollection, uncompressed body",
                target=size_target,
            ),
        ]
    with_cells_p95 = next(row.value for row in rows if row.name == "locations API, all=true p95")
    return [*rows, no_cells_row(database_url, probe, with_cells_p95)]


def no_cells_row(database_url: str, probe: Probe, with_cells_p95: float) -> Row:
    """Everyone's photos without the counted cells: the SQL the API would send to
    cluster them on request. The API adds its own time to that, so if the SQL alone
    misses the target, the one path cannot meet it without the cells."""
    sql = Probe.reading_photos(probe.uncounted_locations_sql)
    limits = {"warm_up": NO_CELLS_WARM_UP, "max_seconds": NO_CELLS_SECONDS}
    sql_ms = bare_sql_ms(database_url, probe.session_options, sql, **limits)
    how = (
        f"GET {LOCATIONS_API}&all=true without geo/map_cells.py: the SQL it would send "
        f"({len(sql)} statements: is there a 201st photo, then GROUP BY SnapToGrid over "
        f"everyone's photos in the box), psycopg alone, the least the API would take; "
        f"{len(sql_ms)} runs"
    )
    return Row(
        "locations API, all=true, no cells p95",
        percentile(sql_ms, 95),
        "ms",
        how,
        baseline=with_cells_p95,
        baseline_name="with cells",
        target=Target(LOCATIONS_TARGET_MS, f"≤ {LOCATIONS_TARGET_MS:.0f} ms"),
    )


def newest_photo_key(app_url: str, probe: Probe) -> str:
    """The storage key of the user's newest photo, from its /media/ link."""
    answer = http_get(app_url + LIST_API, headers={"Authorization": f"Bearer {probe.token}"})
    return json.loads(answer.body)["items"][0]["image_url"].removeprefix("/media/")


# --- Photos on S3 -------------------------------------------------------------------------


def s3_link_rows(
    servers: ExitStack,
    environment: dict[str, str],
    s3: SeaweedS3,
    cdn: Nginx,
    probe: Probe,
    *,
    workdir: Path,
    local_list_ms: float,
) -> list[Row]:
    """The list API with the photos on S3, where each of a page's 48 links (photo and
    thumbnail) is signed in the app: S3 presigned URLs, or CloudFront signed URLs on
    the CDN's domain (shared/photo_storage.py signs those once per user folder and
    hour). Local files need no signature: that is the baseline."""
    key_file = workdir / "cloudfront-key.pem"
    key_file.write_text(throwaway_rsa_key())
    s3_environment = {**environment, **s3.django_environment(BUCKET)}
    cloudfront_environment = {
        **s3_environment,
        "AWS_S3_CUSTOM_DOMAIN": cdn.url.removeprefix("http://"),
        "AWS_S3_URL_PROTOCOL": "http:",
        "AWS_CLOUDFRONT_KEY_ID": "BENCHKEY",
        "AWS_CLOUDFRONT_KEY_FILE": str(key_file),
    }
    links = 2 * PAGE_SIZE
    variants = [
        ("S3 presigned", s3_environment, "X-Amz-Signature=", f"{links} S3 presigned URLs"),
        (
            "CloudFront",
            cloudfront_environment,
            "Key-Pair-Id=BENCHKEY",
            f"{links} CloudFront signed URLs, one signature per user folder and hour",
        ),
    ]
    rows = []
    for name, variant_environment, signed_mark, what in variants:
        # One gunicorn at a time on these 2 cores; each is stopped before the next.
        app = servers.enter_context(closing(Gunicorn(variant_environment, workers=WORKERS)))
        app.start()
        list_ms = sample_ms(
            get(app.url + LIST_API, bearer=probe.token), check_list_answer(signed_mark)
        )
        app.close()
        p50 = median(list_ms)
        per_link_us = (p50 - local_list_ms) / links * 1000
        rows.append(
            Row(
                f"history list API p50, {name}",
                p50,
                "ms",
                f"the same, photos on S3: {what}; {per_link_us:+.0f} µs per link vs local files; "
                f"{len(list_ms)} sequential requests",
                baseline=local_list_ms,
                baseline_name="local files",
            )
        )
    return rows


# --- Measuring ----------------------------------------------------------------------------


def get(
    url: str, *, bearer: str | None = None, session: str | None = None
) -> Callable[[], Response]:
    """A GET as a script (Bearer token) or a browser (session cookie) sends it."""
    headers = {}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    if session:
        headers["Cookie"] = f"sessionid={session}"
    # One connection per request (tooling/servers/net.py), as bench/load.py does.
    return lambda: http_get(url, headers=headers)


def sample_ms(
    call: Callable[[], T],
    check: Callable[[T], None] = lambda _: None,
    *,
    warm_up: int = WARM_UP,
    max_seconds: float = MAX_SECONDS,
) -> list[float]:
    """Milliseconds per call, one call at a time, after `warm_up` untimed calls; stops
    after MAX_REQUESTS calls or `max_seconds`, whichever comes first.

    Every answer is checked, outside the timed part: a fast error page is no result.
    """
    for _ in range(warm_up):
        check(call())
    samples: list[float] = []
    deadline = time.perf_counter() + max_seconds
    while len(samples) < MAX_REQUESTS and time.perf_counter() < deadline:
        started = time.perf_counter()
        answer = call()
        samples.append((time.perf_counter() - started) * 1000)
        check(answer)
    return samples


def expect_ok(answer: Response) -> None:
    if answer.status != 200:
        raise BadAnswer(f"answered {answer.status}: {answer.body[:300]!r}")
