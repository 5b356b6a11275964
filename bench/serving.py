"""The whole path as a user meets it: the 12 MP photo POSTed to /api/v1/classify on
gunicorn, set up like production (2 workers, ONNX backend, gunicorn.conf.py, warmed),
then the memory those processes hold after the load."""

from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from bench.load import closed_loop, multipart_upload, sequential
from bench.table import Row, Target, time_row
from bench.timing import median, percentile
from tooling.servers import Gunicorn, pss_bytes, rss_bytes

if TYPE_CHECKING:
    from bench.context import BenchContext

WORKERS = 2  # as in production: also the other sections' servers
CLIENTS = 2  # one per worker: enough to keep both busy without queueing
WARM_UP_REQUESTS = 6
SEQUENTIAL_REQUESTS, SEQUENTIAL_SECONDS = 60, 15.0
LOADED_REQUESTS, LOADED_SECONDS = 200, 20.0

LATENCY_TARGET_MS = 60.0
MEMORY_TARGET_MB = 400.0


def server_environment(
    var_dir: Path, onnx_model: Path, threads: int | None = None
) -> dict[str, str]:
    """Production-like: DEBUG off, 2 sync workers, the ONNX backend; its own SpatiaLite
    file and media folder in `var_dir`, spelled out so that an outside DATABASE_URL or
    bucket cannot point the benchmark at real data."""
    environment = {
        "BIRDAI_VAR_DIR": str(var_dir),
        "DATABASE_URL": f"spatialite:///{var_dir / 'db.sqlite3'}",
        "MEDIA_ROOT": str(var_dir / "media"),
        "AWS_STORAGE_BUCKET_NAME": "",
        "DEBUG": "false",
        "CLASSIFIER_BACKEND": "onnx",
        "CLASSIFIER_ONNX_PATH": str(onnx_model),
        # The benchmark sends one photo many times and measures the model: a prediction
        # kept by the photo's SHA-256 would answer all but the first (prediction_cache.py).
        "CLASSIFIER_CACHE_SECONDS": "0",
        "GUNICORN_WORKERS": str(WORKERS),
        "GUNICORN_THREADS": "1",
        "GUNICORN_LOGLEVEL": "warning",
    }
    if threads:
        environment["CLASSIFIER_THREADS"] = str(threads)
    return environment


def classify_rows(context: "BenchContext") -> list[Row]:
    photo = context.photo
    floor = context.floor_ms
    # closing() rather than `with Gunicorn(...)`: the server is also stopped when a
    # Ctrl-C arrives while it is still starting, before a `with` block would be entered.
    environment = server_environment(context.var_dir, context.onnx_model, context.threads)
    with closing(Gunicorn(environment, workers=WORKERS)) as server:
        server.start()
        request = multipart_upload(
            server.url + "/api/v1/classify",
            field_name="image",
            filename=photo.filename,
            data=photo.data,
        )
        # Both workers answer a few requests first: lazy imports and first-call costs.
        closed_loop(request, clients=CLIENTS, max_requests=WARM_UP_REQUESTS, max_seconds=30)
        alone = sequential(
            request, max_requests=SEQUENTIAL_REQUESTS, max_seconds=SEQUENTIAL_SECONDS
        )
        loaded = closed_loop(
            request, clients=CLIENTS, max_requests=LOADED_REQUESTS, max_seconds=LOADED_SECONDS
        )
        memory = memory_rows(server.pids())

    upload = f"POST {photo.megabytes:.1f} MB JPEG, gunicorn {WORKERS} workers, onnx"
    in_server = [answer["elapsed_ms"] for answer in alone.answers]
    # The best rate the workers could reach if each request cost only the floor.
    floor_rate = WORKERS * 1000 / floor
    return [
        time_row(
            "e2e classify p50, 1 client",
            median(alone.latencies_ms),
            floor_ms=floor,
            how=f"{upload}; {len(alone.latencies_ms)} sequential requests",
            target=Target(LATENCY_TARGET_MS, f"≤ {LATENCY_TARGET_MS:.0f} ms"),
        ),
        time_row(
            "  of which decode+classify",
            median(in_server),
            floor_ms=floor,
            how="p50 of elapsed_ms in the same answers: the view's own time",
        ),
        time_row(
            f"e2e classify p50, {CLIENTS} clients",
            median(loaded.latencies_ms),
            floor_ms=floor,
            how=f"closed loop, {len(loaded.latencies_ms)} requests in {loaded.seconds:.1f} s",
        ),
        time_row(
            f"e2e classify p95, {CLIENTS} clients",
            percentile(loaded.latencies_ms, 95),
            floor_ms=floor,
            how="the same requests",
        ),
        Row(
            f"e2e classify rate, {CLIENTS} clients",
            loaded.requests_per_second,
            "req/s",
            how=f"the same requests; ratio to {WORKERS} workers x 1 image per floor",
            baseline=floor_rate,
            baseline_name="floor rate",
        ),
        *memory,
    ]


def memory_rows(pids: list[int]) -> list[Row]:
    """What a server's processes (master first, then workers) hold in memory, in MB."""
    target = Target(MEMORY_TARGET_MB, f"≤ {MEMORY_TARGET_MB:.0f} MB")
    rss_mb = [rss_bytes(pid) / 1_000_000 for pid in pids]
    pss_mb = [pss_bytes(pid) / 1_000_000 for pid in pids]

    def per_process(figures: list[float]) -> str:
        master, *workers = (f"{figure:.0f}" for figure in figures)
        return f"master {master} + workers {' + '.join(workers)}"

    return [
        Row(
            "serving memory, RSS sum",
            sum(rss_mb),
            "MB",
            how=f"VmRSS, {per_process(rss_mb)}; counts shared pages once per process",
            baseline=MEMORY_TARGET_MB,
            baseline_name="target",
            target=target,
        ),
        Row(
            "serving memory, PSS sum",
            sum(pss_mb),
            "MB",
            how=f"smaps_rollup Pss, {per_process(pss_mb)}; splits shared pages",
            baseline=MEMORY_TARGET_MB,
            baseline_name="target",
            target=target,
        ),
    ]
