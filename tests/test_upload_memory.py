"""Issue #12, finding 2: no accepted upload may raise a worker's peak memory by more than
300 MB over its warmed-up peak (two workers and the system must fit a 1 GiB instance).

The real thing: gunicorn with 2 sync workers on loopback, warmed up with normal photos
through both endpoints; then each small hostile file (bench/upload_memory.py makes them)
is sent to POST /api/v1/classify (anonymous) and POST /api/v1/submissions (API token),
and the worker's peak resident memory (VmHWM) is read. A file the server cannot decode
within MAX_DECODE_BYTES must be refused with a clear 413 instead.
"""

import pytest

from bench.upload_memory import (
    ENDPOINTS,
    EXTRA_FILE_BYTES,
    HOSTILE_UPLOADS,
    MB,
    MEMORY_BUDGET_MB,
    UploadMemoryServer,
    app_environment,
    normal_photos,
)

ACCEPTED = {200, 201}
REFUSALS = {"too_large_to_decode", "too_many_pixels"}


@pytest.fixture(scope="module")
def server(onnx_model, tmp_path_factory):
    server = UploadMemoryServer(app_environment(tmp_path_factory.mktemp("var"), onnx_model))
    try:
        server.start()
        server.warm_up(normal_photos())
        yield server
    finally:
        server.close()


def test_both_workers_are_warmed_up_and_measured(server):
    assert len(server.warmed_peak) == 2
    assert all(peak > 50 * MB for peak in server.warmed_peak.values())


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("upload", HOSTILE_UPLOADS, ids=lambda upload: upload.name)
def test_a_small_hostile_upload_stays_within_the_memory_budget(server, endpoint, upload):
    answer = server.measure(endpoint, upload)
    if answer.status not in ACCEPTED:
        # Refusing is fine, as long as it is a clear 413 for what cannot be decoded.
        assert answer.status == 413, answer
        assert answer.body["error"] in REFUSALS, answer
        assert "memory" in answer.body["message"] or "pixels" in answer.body["message"]
    assert answer.rise_mb <= MEMORY_BUDGET_MB, (
        f"{upload.name} to {endpoint}: a worker's peak rose {answer.rise_mb:.0f} MB over "
        f"its warmed-up peak (answer {answer.status})"
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_only_the_image_field_is_kept_in_memory(server, endpoint):
    extra_fields = next(upload for upload in HOSTILE_UPLOADS if upload.extra_files)
    answer = server.measure(endpoint, extra_fields)
    assert answer.status in ACCEPTED, answer
    # The extra files are 190 MB; drained as they arrive, they leave next to nothing.
    assert answer.rise_mb < 2 * EXTRA_FILE_BYTES / MB, f"peak rose {answer.rise_mb:.0f} MB"
