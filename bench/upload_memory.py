"""Worst-case upload memory: how far one hostile upload raises a worker's peak memory.

Small files can declare huge pictures (issue #12, finding 2): a 194 KB PNG of 7064 x 7064
transparent pixels, a 97 KB 16-bit grey PNG, a 782 KB uniform 50 MP JPEG, and a request
carrying ten more 19 MB files beside its image. Each is sent to gunicorn (2 sync workers,
as in production) once both workers have answered a few normal photos through both
endpoints; the figure is the worker's peak resident memory (VmHWM) over its peak after
that warm-up. Target: 300 MB, so two workers and the system fit a 1 GiB instance.

tests/stack/test_upload_memory.py asserts the target for each file; `python -m bench --only
upload_memory` prints the worst one per endpoint.
"""

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from bench.serving import WORKERS, server_environment
from bench.table import Row, Target
from tooling.photos import enlarged_jpeg, reencode, skimage_photo
from tooling.servers import Gunicorn, cpu_seconds, peak_rss_bytes, prepare_app, reset_peak_rss
from tooling.servers.net import http_request, multipart_files

if TYPE_CHECKING:
    from bench.context import BenchContext

MEMORY_BUDGET_MB = 300.0
CLASSIFY = "/api/v1/classify"
SUBMISSIONS = "/api/v1/submissions"
ENDPOINTS = (CLASSIFY, SUBMISSIONS)
REQUEST_TIMEOUT_SECONDS = 120  # a 200 MB request body on a busy 2-core machine
EXTRA_FILE_BYTES = 19 * 1024 * 1024
MB = 1_000_000


# --- The files ------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    name: str
    filename: str
    make: Callable[[], bytes]  # made when first sent: some take a few seconds
    extra_files: int = 0  # more file fields of EXTRA_FILE_BYTES each, beside `image`


def encoded(image: Image.Image, format: str, **options) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def transparent_png() -> bytes:
    """~194 KB: 7064 x 7064 RGBA, all zero (50 MP, 200 MB decoded)."""
    return encoded(Image.new("RGBA", (7064, 7064)), "PNG", compress_level=9)


def noisy_transparent_png() -> bytes:
    """The same canvas with its first 640 rows random: a ~19 MB file, close to the upload
    limit, so the request body and the decode weigh on the worker at the same time."""
    pixels = np.zeros((7064, 7064, 4), np.uint8)
    pixels[:640] = np.random.default_rng(12).integers(0, 256, (640, 7064, 4), np.uint8)
    return encoded(Image.fromarray(pixels), "PNG", compress_level=1)


def grey_16_bit_png() -> bytes:
    """~97 KB: 7064 x 7064 16-bit grey, all zero."""
    return encoded(Image.fromarray(np.zeros((7064, 7064), np.uint16)), "PNG", compress_level=9)


def uniform_50mp_jpeg() -> bytes:
    """~780 KB: 8660 x 5773 of one colour, a baseline JPEG."""
    return encoded(Image.new("RGB", (8660, 5773), (90, 120, 60)), "JPEG", quality=90)


def progressive_50mp_jpeg() -> bytes:
    """A progressive JPEG without chroma subsampling: libjpeg keeps all its
    coefficients (300 MB for 50 MP), even when decoding at 1/8 scale."""
    image = Image.new("RGB", (8660, 5773), (90, 120, 60))
    return encoded(image, "JPEG", quality=90, progressive=True, subsampling=0)


def uniform_webp() -> bytes:
    """7064 x 7064 transparent, lossless: Pillow's WebP decoding holds 16 bytes a pixel."""
    return encoded(Image.new("RGBA", (7064, 7064)), "WEBP", lossless=True)


def small_photo() -> bytes:
    return encoded(Image.new("RGB", (640, 480), (40, 90, 160)), "JPEG", quality=90)


HOSTILE_UPLOADS = [
    Upload("transparent 50 MP PNG", "zero.png", transparent_png),
    Upload("transparent 50 MP PNG, 19 MB of noise", "noisy.png", noisy_transparent_png),
    Upload("16-bit grey 50 MP PNG", "grey.png", grey_16_bit_png),
    Upload("uniform 50 MP JPEG", "uniform.jpg", uniform_50mp_jpeg),
    Upload("progressive 50 MP JPEG", "progressive.jpg", progressive_50mp_jpeg),
    Upload("transparent 50 MP WebP", "zero.webp", uniform_webp),
    Upload("10 extra 19 MB file fields", "small.jpg", small_photo, extra_files=10),
]


@cache
def upload_bytes(upload: Upload) -> bytes:
    return upload.make()


def multipart_body(
    filename: str, data: bytes, extra_files: int = 0
) -> tuple[bytes, dict[str, str]]:
    """`image` first, then the extra file fields, as one multipart/form-data body."""
    filler = b"\0" * EXTRA_FILE_BYTES if extra_files else b""
    extras = [(f"extra{number}", f"extra{number}.bin", filler) for number in range(extra_files)]
    return multipart_files([("image", filename, data), *extras])


# --- The server -----------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    rise_mb: float  # the highest peak of a worker over its warmed-up peak, in MB


def app_environment(var_dir: Path, onnx_model: Path) -> dict[str, str]:
    """bench/serving.py's production-like server, with its own SpatiaLite file."""
    # A 50 MP decode on a busy 2-core machine may take a while: measure, not time out.
    return {**server_environment(var_dir, onnx_model), "GUNICORN_TIMEOUT": "120"}


class UploadMemoryServer:
    """gunicorn with a migrated database, a user and an API token; measures what each
    upload adds to a worker's peak memory once warm_up() has run."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.environment = environment
        self.gunicorn = Gunicorn(environment, workers=WORKERS)
        self.token = ""
        self.warmed_peak: dict[int, int] = {}
        self.warmed_workers = 0  # how many did real work during warm_up()
        self.can_reset_peak = True

    def start(self) -> None:
        self.token = prepare_app(self.environment, "memory")
        self.gunicorn.start()

    def close(self) -> None:
        self.gunicorn.close()

    @property
    def workers(self) -> list[int]:
        return self.gunicorn.pids()[1:]

    def warm_up(self, photos: list[tuple[str, bytes]], max_rounds: int = 5) -> None:
        """Sends each photo through both endpoints, two requests at a time so both
        workers take some, until each worker has done real work; then notes each
        worker's peak."""
        workers = self.workers
        cpu_before = {pid: cpu_seconds(pid) for pid in workers}
        for round_number in range(max_rounds):
            for filename, data in photos:
                # Other bytes each round, so a submission is processed, not found again.
                data = data + round_number.to_bytes(1, "big") if round_number else data
                threads = [
                    threading.Thread(target=self.post, args=(endpoint, filename, data))
                    for endpoint in ENDPOINTS
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
            worked = [pid for pid in workers if cpu_seconds(pid) - cpu_before[pid] > 0.3]
            if len(worked) == len(workers):
                break
        self.warmed_workers = len(worked)
        self.warmed_peak = {pid: peak_rss_bytes(pid) for pid in workers}

    def post(self, endpoint: str, filename: str, data: bytes) -> tuple[int, dict]:
        return self.post_body(endpoint, *multipart_body(filename, data))

    def post_body(self, endpoint: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
        if endpoint == SUBMISSIONS:
            headers = {**headers, "Authorization": f"Bearer {self.token}"}
        url = self.gunicorn.url + endpoint
        answer = http_request(
            "POST", url, body=body, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS
        )
        try:
            return answer.status, json.loads(answer.body)
        except ValueError:
            return answer.status, {"body": answer.body[:300].decode(errors="replace")}

    def measure(self, endpoint: str, upload: Upload) -> Answer:
        """Sends one upload; how far it raised a worker's peak over its warmed-up peak.

        Each worker's peak is first set back to its current memory, so the figure is
        this upload's alone; where the kernel does not allow that, it is the highest
        peak so far, which only makes the figure larger."""
        workers = self.workers
        for pid in workers:
            self.can_reset_peak = reset_peak_rss(pid) and self.can_reset_peak
        body = multipart_body(upload.filename, upload_bytes(upload), upload.extra_files)
        status, answer = self.post_body(endpoint, *body)
        rise = max(peak_rss_bytes(pid) - self.warmed_peak[pid] for pid in workers)
        return Answer(status, answer, rise / MB)


def normal_photos() -> list[tuple[str, bytes]]:
    """What the warmed-up peak is made of: a 12 MP phone JPEG, a PNG and a WebP."""
    cat = skimage_photo("chelsea.png")
    return [
        ("IMG_0001.JPG", enlarged_jpeg(cat, size=(4000, 3000))),
        ("cat.png", cat),
        ("coffee.webp", reencode(skimage_photo("coffee.png"), "WEBP")),
    ]


# --- The benchmark's rows -------------------------------------------------------------


def upload_memory_rows(context: "BenchContext") -> list[Row]:
    server = UploadMemoryServer(app_environment(context.var_dir, context.onnx_model))
    try:
        server.start()
        server.warm_up(normal_photos())
        results = {
            endpoint: [(upload, server.measure(endpoint, upload)) for upload in HOSTILE_UPLOADS]
            for endpoint in ENDPOINTS
        }
    finally:
        server.close()
    peaks = "" if server.can_reset_peak else " (peaks not reset between uploads: cumulative)"
    rows = []
    target = Target(MEMORY_BUDGET_MB, f"≤ {MEMORY_BUDGET_MB:.0f} MB")
    for endpoint, answers in results.items():
        worst, answer = max(answers, key=lambda pair: pair[1].rise_mb)
        others = ", ".join(
            f"{upload.name} {result.rise_mb:.0f} ({result.status})" for upload, result in answers
        )
        rows.append(
            Row(
                f"worst-case upload memory, {endpoint.removeprefix('/api/v1/')}",
                answer.rise_mb,
                "MB",
                how=(
                    f"peak RSS rise of a worker over its warmed-up peak, worst of {len(answers)} "
                    f"hostile uploads: {worst.name} ({answer.status}); all: {others}{peaks}"
                ),
                baseline=MEMORY_BUDGET_MB,
                baseline_name="target",
                target=target,
            )
        )
    return rows
