"""A photo's way to the browser: from the CDN's cache, from Django, straight from S3.

The same ~110 KB JPEG, under the key of the user's newest photo, comes from
- an nginx cache in front of S3: a CDN edge that already holds it (a HIT);
- Django's /media/ view, which serves the photos when there is no bucket: the origin
  of the embedded default, and what the issue compares the CDN with;
- SeaweedFS's S3 API through a presigned URL: what the app links on S3 without a CDN.

First one request at a time: the issue's target, "CDN HIT ≥ 5x faster than the
origin path", is on that row, against Django. Then 24 requested at once, a history
page's photos, which a browser asks for together: gunicorn's 2 sync workers take them
two at a time, nginx all of them.

What this machine cannot show: a CDN's main gain, the distance to the user, does not
exist over loopback; and the client shares the 2 cores with the server. curl sends the
requests (bench/curl.py) because a Python client costs more per request than nginx
does, but even curl's own work is about twice nginx's: under load it, not nginx, sets
the CDN's pace, and it cannot keep 24 in flight there. So the page rows print how many
requests were in flight, and compare the servers by rate rather than by p50s taken at
different loads. As the CDN's rate is curl's, that ratio is a lower bound on nginx's
advantage. The server CPU per photo is the figure the client cannot distort.
"""

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from bench.curl import CurlRun, curl_gets
from bench.load import BadAnswer
from bench.table import Row, Target
from bench.timing import median, percentile
from shared.storage import IMMUTABLE_CACHE_CONTROL
from tooling.servers import Gunicorn, Nginx, SeaweedS3
from tooling.servers.net import Response, http_get

if TYPE_CHECKING:
    from bench.context import BenchContext

PHOTO_SIZE, PHOTO_QUALITY = (800, 600), 80  # a JPEG of about 110 KB
CDN_SPEED_UP_TARGET = 5.0

ONE_AT_A_TIME = 300  # requests per series
PAGE_AT_ONCE = 24  # requests asked for at once: a history page's photos (history/views.py)
# Untimed first: every worker and connection path used once. At 24 at once, also a
# first rate from which to size the timed series to last about PAGE_SECONDS: seconds
# rather than a count, as /proc counts CPU time in 10 ms ticks, too coarse for a short
# series.
WARM_UP, PAGE_WARM_UP = 20, 500
PAGE_SECONDS = 2.0
MIN_REQUESTS, MAX_REQUESTS = 1_000, 50_000
# Below this share of PAGE_AT_ONCE really in flight, the client set the pace.
IN_FLIGHT_SHORTFALL = 0.9


@dataclass(frozen=True)
class Series:
    """One server's answers to one series, with the CPU both sides used meanwhile."""

    run: CurlRun
    server_cpu_seconds: float  # user + system of all the server's processes

    @property
    def p50(self) -> float:
        return median(self.run.latencies_ms)

    @property
    def p95(self) -> float:
        return percentile(self.run.latencies_ms, 95)

    @property
    def server_cpu_ms(self) -> float:
        """The server's CPU time per photo."""
        return self.server_cpu_seconds * 1000 / len(self.run.transfers)

    @property
    def client_cpu_ms(self) -> float:
        return self.run.client_cpu_seconds * 1000 / len(self.run.transfers)

    @property
    def client_set_the_pace(self) -> bool:
        return self.run.mean_in_flight < IN_FLIGHT_SHORTFALL * PAGE_AT_ONCE

    def described(self, server: str) -> str:
        """How many requests, how many really in flight, who used the CPU."""
        run = self.run
        text = (
            f"{len(run.transfers)} requests in {run.seconds:.1f} s, "
            f"{run.requests_per_second:.0f} req/s, {run.mean_in_flight:.1f} in flight on "
            f"average; CPU per photo: {server} {self.server_cpu_ms:.3f} ms, curl "
            f"{self.client_cpu_ms:.3f} ms, on {os.cpu_count()} shared cores"
        )
        if self.client_set_the_pace:
            text += "; CURL SET THE PACE: fewer in flight than asked"
        return text


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
    photo: bytes,
    key: str,
    *,
    media_root: Path,
    app: Gunicorn,
    s3: SeaweedS3,
    bucket: str,
    cdn: Nginx,
) -> list[Row]:
    """Puts `photo` under `key` on the local disk and in the bucket, then fetches it
    from the CDN, Django and S3: one at a time, then a page's worth at once."""
    media_file = media_root / key
    media_file.parent.mkdir(parents=True, exist_ok=True)
    media_file.write_bytes(photo)
    s3.client().put_object(
        Bucket=bucket,
        Key=key,
        Body=photo,
        ContentType="image/jpeg",
        CacheControl=IMMUTABLE_CACHE_CONTROL,  # as the app stores its photos
    )
    cdn_url = f"{cdn.url}/{key}"
    django_url = f"{app.url}/media/{key}"
    s3_url = s3.client().generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600
    )
    # The bytes themselves, once from each; curl checks every later answer's size.
    expect_photo(http_get(cdn_url), photo, cache_status="MISS")  # fills the edge's cache
    expect_photo(http_get(cdn_url), photo, cache_status="HIT")
    expect_photo(http_get(django_url), photo)
    expect_photo(http_get(s3_url), photo)

    # Each server's link, the server (for its CPU time) and the X-Cache-Status expected.
    servers = {
        "cdn": (cdn_url, cdn, "HIT"),
        "django": (django_url, app, None),
        "s3": (s3_url, s3, None),
    }

    def series(name: str, in_flight: int, count: int | None = None) -> Series:
        """`count` requests, or (None) as many as take about PAGE_SECONDS."""
        url, server, cache_status = servers[name]
        options = {"in_flight": in_flight, "expect_size": len(photo)}
        warm_up_count = WARM_UP if count else PAGE_WARM_UP
        warm_up = curl_gets(url, count=warm_up_count, expect_cache_status=cache_status, **options)
        if count is None:
            count = int(warm_up.requests_per_second * PAGE_SECONDS)
            count = min(max(count, MIN_REQUESTS), MAX_REQUESTS)
        cpu_before = server.total_cpu_seconds()
        run = curl_gets(url, count=count, expect_cache_status=cache_status, **options)
        return Series(run, server.total_cpu_seconds() - cpu_before)

    single = {name: series(name, 1, ONE_AT_A_TIME) for name in servers}
    page = {name: series(name, PAGE_AT_ONCE) for name in servers}
    return one_at_a_time_rows(single, len(photo)) + page_at_once_rows(page)


def one_at_a_time_rows(single: dict[str, Series], size: int) -> list[Row]:
    django, cdn, s3 = single["django"], single["cdn"], single["s3"]
    how = f"{ONE_AT_A_TIME} sequential GETs by curl, a new connection each"
    return [
        Row(
            "photo via Django /media/ p50",
            django.p50,
            "ms",
            f"{size / 1000:.0f} KB JPEG, django.views.static.serve from MEDIA_ROOT via "
            f"gunicorn; {how}",
        ),
        Row(
            "photo via CDN, cache HIT p50",
            cdn.p50,
            "ms",
            f"the same bytes from nginx proxy_cache in front of SeaweedFS S3 "
            f"(X-Cache-Status: HIT); {how}",
            baseline=django.p50,
            baseline_name="Django",
        ),
        Row(
            "photo CDN speed-up",
            django.p50 / cdn.p50,
            "x",
            "Django p50 / CDN HIT p50, one request at a time, over loopback: no distance "
            "to the user for the CDN to save",
            target=Target(CDN_SPEED_UP_TARGET, f"≥ {CDN_SPEED_UP_TARGET:.0f}x", True),
        ),
        Row(
            "photo via S3 presigned URL p50",
            s3.p50,
            "ms",
            f"the same bytes straight from SeaweedFS's S3 API (what the app links without "
            f"a CDN, on S3); {how}",
            baseline=django.p50,
            baseline_name="Django",
        ),
        Row(
            "photo CDN speed-up vs S3",
            s3.p50 / cdn.p50,
            "x",
            "S3 presigned p50 / CDN HIT p50; informational: the issue's target is vs Django",
        ),
    ]


def page_at_once_rows(page: dict[str, Series]) -> list[Row]:
    django, cdn, s3 = page["django"], page["cdn"], page["s3"]
    at_once = f"{PAGE_AT_ONCE} at once"
    how = (
        f"closed loop, {PAGE_AT_ONCE} requests at a time (a history page's photos) from "
        f"one curl, a new connection each, the next sent as soon as one is answered"
    )
    rate_how = (
        "CDN req/s / Django req/s; a lower bound when curl set the CDN's pace (its rate "
        "is then curl's); the p50s, taken at different numbers in flight, do not compare; "
        "informational"
    )
    return [
        Row(
            f"photo via Django, {at_once} p50",
            django.p50,
            "ms",
            f"{how}; gunicorn 2 sync workers; {django.described('gunicorn')}",
        ),
        Row(f"photo via Django, {at_once} p95", django.p95, "ms", "the same requests"),
        Row(
            f"photo via CDN HIT, {at_once} p50",
            cdn.p50,
            "ms",
            f"the same load on nginx's cache; {cdn.described('nginx')}",
        ),
        Row(
            f"photo via S3 presigned, {at_once} p50",
            s3.p50,
            "ms",
            f"the same load on SeaweedFS; {s3.described('weed mini')}",
        ),
        Row(
            f"photo CDN speed-up by rate, {at_once}",
            cdn.run.requests_per_second / django.run.requests_per_second,
            "x",
            rate_how,
        ),
        Row(
            f"photo server CPU saving, {at_once}",
            django.server_cpu_ms / cdn.server_cpu_ms,
            "x",
            f"gunicorn CPU per photo / nginx CPU per photo ({django.server_cpu_ms:.3f} / "
            f"{cdn.server_cpu_ms:.3f} ms, user+system of all their processes from /proc): "
            f"what the origin would spend on the photos a CDN serves; the one figure here "
            f"that the client sharing the cores does not distort; informational",
        ),
    ]


def expect_photo(answer: Response, photo: bytes, *, cache_status: str | None = None) -> None:
    if answer.status != 200 or answer.body != photo:
        raise BadAnswer(f"{answer.status} with {len(answer.body)} bytes, not the photo stored")
    if cache_status and answer.headers.get("X-Cache-Status") != cache_status:
        status = answer.headers.get("X-Cache-Status")
        raise BadAnswer(f"CDN cache status {status}, expected {cache_status}")
