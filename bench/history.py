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
against its bare SQL, with the size of the GeoJSON answer.

The photo: the same ~100 KB JPEG from an nginx cache in front of S3 (a CDN edge that
already holds it) and from Django's own /media/ view, which serves local files when
there is no S3 bucket. First one request at a time, then as a history page asks for
them: its 24 thumbnails at once, which gunicorn's 2 sync workers take 2 at a time.

Last, the list API again with the photos on S3, where the app signs each of a page's
48 links: S3 presigned URLs, or CloudFront signed URLs. Two more server starts, a
few seconds, to show what signing costs.
"""

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import psycopg
from PIL import Image

from bench.context import PROJECT_ROOT
from bench.load import BadAnswer, LoadResult, Request, closed_loop
from bench.seed import HEAVY_USER, HEAVY_USER_SUBMISSIONS, SUBMISSIONS, seed
from bench.serving import server_environment
from bench.table import Row, Target
from bench.timing import median, percentile
from birdai.storage import IMMUTABLE_CACHE_CONTROL
from tests.servers import Gunicorn, Nginx, PostgresCluster, SeaweedS3, child_pids
from tests.servers.net import Response, http_get

if TYPE_CHECKING:
    from bench.context import BenchContext

WORKERS = 2
PAGE_SIZE = 24  # history/api.py and history/views.py
WARM_UP = 10  # untimed requests first: connections, caches, lazy imports
MAX_REQUESTS, MAX_SECONDS = 200, 10.0  # per measured series, whichever comes first
SUBPROCESS_TIMEOUT_SECONDS = 120

PHOTO_SIZE, PHOTO_QUALITY = (800, 600), 80  # a JPEG of about 110 KB
BUCKET = "bench-photos"

LIST_TARGET_MS = 20.0
# The map: a 10° x 10° box from Paris and Lyon to Amsterdam and Munich.
LOCATIONS_API = "/api/v1/locations?bbox=2,44,12,54"
LOCATIONS_TARGET_MS = 30.0
LOCATIONS_TARGET_KB = 200.0
# Its series are shorter: a query over a million points may take a while, and the
# bench a minute at most.
LOCATIONS_WARM_UP, LOCATIONS_SECONDS = 2, 2.0
CDN_SPEED_UP_TARGET = 5.0

# The photo under load: a history page's thumbnails, all requested at once.
BURST_CLIENTS = PAGE_SIZE
BURST_WARM_UP = 2 * BURST_CLIENTS  # untimed: every worker and connection path used once
BURST_REQUESTS, BURST_SECONDS = 10_000, 5.0  # per server, whichever comes first
# The load generator is Python threads sharing one interpreter lock: once this process
# uses about one core, it rather than the server sets the pace.
CLIENT_SATURATED_CORES = 0.9

LIST_API = "/api/v1/submissions"
HISTORY_PAGE = "/history/"
LIST_P50 = "history list API p50"  # also the baseline of the S3 rows

T = TypeVar("T")


def history_rows(context: "BenchContext") -> list[Row]:
    """Starts PostGIS, S3, the CDN and gunicorn (one app server at a time), fills
    the database, then measures; everything stops when it returns."""
    photo = web_photo(context)
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
            app.url, cdn.url, s3, photo, probe, context.var_dir, app.pids(), nginx_pids(cdn)
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
    session_options: str  # libpq `options` of Django's connections: the bare SQL's too

    @staticmethod
    def reading_photos(statements: list[str]) -> list[str]:
        """The page's own statements, which read the submissions or the map's cell
        counts; the others find the session, user or token."""
        tables = ('"history_submission"', '"geo_mapcell"')
        return [sql for sql in statements if any(table in sql for table in tables)]


def app_environment(context: "BenchContext", database_url: str) -> dict[str, str]:
    """bench/serving.py's production-like server, on the benchmark's PostGIS."""
    return {
        **server_environment(context),
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(context.var_dir / "media"),
        # Local files, whatever this shell's environment says.
        "AWS_STORAGE_BUCKET_NAME": "",
    }


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
    probe = run_python(["-m", "bench.history_probe", HEAVY_USER, LOCATIONS_API], environment)
    return Probe(**json.loads(probe))


def manage(arguments: list[str], environment: dict[str, str]) -> str:
    return run_python(["manage.py", *arguments, "--verbosity=0"], environment)


def run_python(arguments: list[str], environment: dict[str, str]) -> str:
    """Runs this Python in the project with `environment` added; returns its stdout."""
    finished = subprocess.run(
        [sys.executable, *arguments],
        cwd=PROJECT_ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{finished.stderr[-2000:]}")
    return finished.stdout


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
    return rows


# --- The photo ----------------------------------------------------------------------------


def web_photo(context: "BenchContext") -> bytes:
    """The benchmark's 12 MP photo made into an 800x600 JPEG of about 110 KB, the size
    of a photo shown on a page rather than the one uploaded."""
    image = Image.open(io.BytesIO(context.photo.data))
    image.draft("RGB", PHOTO_SIZE)  # decode at a fraction of the size: much faster
    image = image.convert("RGB").resize(PHOTO_SIZE, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=PHOTO_QUALITY)
    return buffer.getvalue()


def delivery_rows(
    app_url: str,
    cdn_url: str,
    s3: SeaweedS3,
    photo: bytes,
    probe: Probe,
    var_dir: Path,
    app_pids: list[int],
    cdn_pids: list[int],
) -> list[Row]:
    """The same bytes under the key of the user's newest photo: from the CDN's cache,
    and from Django reading MEDIA_ROOT; one request at a time, then 24 at once.

    Both servers hand the file to the kernel (sendfile: nginx its cached copy,
    gunicorn the file Django's FileResponse opened), so what differs is the work
    around it: nginx's cache lookup against Django's URL routing, middleware and view.
    """
    newest = json.loads(
        http_get(app_url + LIST_API, headers={"Authorization": f"Bearer {probe.token}"}).body
    )["items"][0]
    key = newest["image_url"].removeprefix("/media/")
    media_file = var_dir / "media" / key
    media_file.parent.mkdir(parents=True, exist_ok=True)
    media_file.write_bytes(photo)
    s3.client().put_object(
        Bucket=BUCKET,
        Key=key,
        Body=photo,
        ContentType="image/jpeg",
        CacheControl=IMMUTABLE_CACHE_CONTROL,  # as the app stores its photos
    )

    def same_photo(cache_status: str | None) -> Callable[[Response], None]:
        def check(answer: Response) -> None:
            expect_ok(answer)
            if answer.body != photo:
                raise BadAnswer(f"{len(answer.body)} bytes, not the {len(photo)} stored")
            if cache_status and answer.headers.get("X-Cache-Status") != cache_status:
                status = answer.headers.get("X-Cache-Status")
                raise BadAnswer(f"CDN cache status {status}, expected {cache_status}")

        return check

    # The first request fills the edge's cache from S3; every one after is a HIT.
    same_photo("MISS")(http_get(f"{cdn_url}/{key}"))
    cdn_ms = sample_ms(get(f"{cdn_url}/{key}"), same_photo("HIT"))
    origin_ms = sample_ms(get(f"{app_url}/media/{key}"), same_photo(None))
    # Where the browser gets photos on S3 without a CDN: a presigned link to the bucket.
    presigned = s3.client().generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=3600
    )
    s3_ms = sample_ms(get(presigned), same_photo(None))

    cdn_burst = burst(f"{cdn_url}/{key}", same_photo("HIT"), cdn_pids)
    origin_burst = burst(f"{app_url}/media/{key}", same_photo(None), app_pids)

    cdn_p50, origin_p50 = median(cdn_ms), median(origin_ms)
    kilobytes = f"{len(photo) / 1000:.0f} KB JPEG"
    sequential_rows = [
        Row(
            "photo via Django /media/ p50",
            origin_p50,
            "ms",
            f"{kilobytes}, django.views.static.serve from MEDIA_ROOT via gunicorn; "
            f"{len(origin_ms)} sequential GETs",
        ),
        Row(
            "photo via CDN, cache HIT p50",
            cdn_p50,
            "ms",
            f"the same bytes from nginx proxy_cache in front of SeaweedFS S3 "
            f"(X-Cache-Status: HIT); {len(cdn_ms)} sequential GETs",
            baseline=origin_p50,
            baseline_name="Django",
        ),
        Row(
            "photo CDN speed-up",
            origin_p50 / cdn_p50,
            "x",
            "Django p50 / CDN HIT p50",
            target=Target(CDN_SPEED_UP_TARGET, f"≥ {CDN_SPEED_UP_TARGET:.0f}x", True),
        ),
        Row(
            "photo via S3 presigned URL p50",
            median(s3_ms),
            "ms",
            f"the same bytes straight from SeaweedFS's S3 API (what the app links without a "
            f"CDN, on S3); {len(s3_ms)} sequential GETs",
            baseline=origin_p50,
            baseline_name="Django",
        ),
        Row(
            "photo CDN speed-up vs S3",
            median(s3_ms) / cdn_p50,
            "x",
            "S3 presigned p50 / CDN HIT p50; informational: the issue's target is vs Django",
        ),
    ]
    return sequential_rows + burst_rows(origin_burst, cdn_burst)


@dataclass(frozen=True)
class Burst:
    load: LoadResult
    client_cores: float  # CPU time of this process (the load generator) / wall time
    server_cores: float  # CPU time of the server's processes / wall time
    client_cpu_ms: float  # CPU time per request
    server_cpu_ms: float

    @property
    def p50(self) -> float:
        return median(self.load.latencies_ms)

    @property
    def p95(self) -> float:
        return percentile(self.load.latencies_ms, 95)

    @property
    def client_saturated(self) -> bool:
        return self.client_cores >= CLIENT_SATURATED_CORES

    def cpu(self, server: str) -> str:
        """Who used the CPU during the run, and what limited the rate."""
        cores = os.cpu_count() or 1
        verdict = ""
        if self.client_saturated:
            verdict = "; LOAD GENERATOR SATURATED (Python threads, one GIL): rate is its limit"
        elif self.client_cores + self.server_cores >= 0.9 * cores:
            verdict = f"; all {cores} cores busy: client and server share them"
        return (
            f"CPU per photo: {server} {self.server_cpu_ms:.2f} ms ({self.server_cores:.2f} "
            f"cores), Python client {self.client_cpu_ms:.2f} ms ({self.client_cores:.2f} "
            f"cores), of {cores} cores{verdict}"
        )


def burst(url: str, check: Callable[[Response], None], server_pids: list[int]) -> Burst:
    """BURST_CLIENTS threads, each GETting `url` again as soon as it has the answer
    (a new connection each time), with the CPU the server and this process used."""

    def fetch(request: Request) -> dict:
        check(http_get(request.url))  # a bytes comparison: microseconds
        return {}

    request = Request("GET", url)
    closed_loop(
        request,
        clients=BURST_CLIENTS,
        max_requests=BURST_WARM_UP,
        max_seconds=BURST_SECONDS,
        send_one=fetch,
    )
    client_before, server_before = time.process_time(), cpu_seconds(server_pids)
    load = closed_loop(
        request,
        clients=BURST_CLIENTS,
        max_requests=BURST_REQUESTS,
        max_seconds=BURST_SECONDS,
        send_one=fetch,
    )
    client_cpu = time.process_time() - client_before
    server_cpu = cpu_seconds(server_pids) - server_before
    return Burst(
        load,
        client_cores=client_cpu / load.seconds,
        server_cores=server_cpu / load.seconds,
        client_cpu_ms=client_cpu * 1000 / len(load.latencies_ms),
        server_cpu_ms=server_cpu * 1000 / len(load.latencies_ms),
    )


def burst_rows(origin: Burst, cdn: Burst) -> list[Row]:
    clients = f"{BURST_CLIENTS} clients"
    how = (
        f"closed loop: {BURST_CLIENTS} threads (a history page's {PAGE_SIZE} thumbnails at "
        f"once), each GETs again when answered, new connection each; latency includes "
        f"waiting for the client's GIL"
    )

    def series(load: LoadResult) -> str:
        return f"{len(load.latencies_ms)} requests in {load.seconds:.1f} s"

    speed_up_how = (
        f"Django p50 / CDN HIT p50, {clients}; req/s ratio "
        f"{cdn.load.requests_per_second / origin.load.requests_per_second:.2f}x; "
        "informational, no target"
    )
    if cdn.client_saturated or origin.client_saturated:
        speed_up_how += "; capped by the load generator (see rates), not by the servers"
    return [
        Row(
            f"photo via Django, {clients} p50",
            origin.p50,
            "ms",
            f"{how}; gunicorn {WORKERS} sync workers; {series(origin.load)}",
        ),
        Row(f"photo via Django, {clients} p95", origin.p95, "ms", "the same requests"),
        Row(
            f"photo via Django, {clients} rate",
            origin.load.requests_per_second,
            "req/s",
            f"the same requests; {origin.cpu(f'gunicorn ({WORKERS} workers)')}",
        ),
        Row(
            f"photo via CDN HIT, {clients} p50",
            cdn.p50,
            "ms",
            f"the same load on nginx's cache (X-Cache-Status: HIT); {series(cdn.load)}",
            baseline=origin.p50,
            baseline_name="Django",
        ),
        Row(
            f"photo via CDN HIT, {clients} p95",
            cdn.p95,
            "ms",
            "the same requests",
            baseline=origin.p95,
            baseline_name="Django",
        ),
        Row(
            f"photo via CDN HIT, {clients} rate",
            cdn.load.requests_per_second,
            "req/s",
            f"the same requests; {cdn.cpu('nginx')}",
            baseline=origin.load.requests_per_second,
            baseline_name="Django",
        ),
        Row(f"photo CDN speed-up, {clients}", origin.p50 / cdn.p50, "x", speed_up_how),
        Row(
            f"photo server CPU saving, {clients}",
            origin.server_cpu_ms / cdn.server_cpu_ms,
            "x",
            f"gunicorn CPU per photo / nginx CPU per photo in the 2 runs above "
            f"({origin.server_cpu_ms:.2f} / {cdn.server_cpu_ms:.2f} ms, user+system of all "
            f"their processes from /proc): the app-server capacity a CDN frees, whatever "
            f"limits the client; informational, no target",
        ),
    ]


def nginx_pids(nginx: Nginx) -> list[int]:
    """The master first, then its workers (and cache manager)."""
    master = nginx.process.pid
    return [master, *child_pids(master)]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (/proc/<pid>/stat)."""
    ticks = 0
    for pid in pids:
        # The fields after the command name, which may itself hold spaces or ")".
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15
    return ticks / os.sysconf("SC_CLK_TCK")


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
    the CDN's domain (birdai/photo_storage.py signs those once per user folder and
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


def throwaway_rsa_key() -> str:
    """A PEM private key like the one a CloudFront key group trusts; used only here."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


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
    # One connection per request (tests/servers/net.py), as bench/load.py does.
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
