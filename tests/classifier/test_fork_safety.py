"""The classifier under a pre-forking server: gunicorn warms it in the master, forks
workers, and each worker warms it again, classifies, and one day exits normally.

Thread pools do not survive fork(); done wrong, workers hang on their first inference
or when they exit (docs/classifier.md, "Fork safety"). Each check runs in a fresh
Python process, because a hang must not take the test session with it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tooling.photos import SKIMAGE_DATA

pytestmark = pytest.mark.database_independent  # fresh Python processes that classify: no database.

PROJECT_ROOT = Path(__file__).resolve().parents[2]

PREFORK_SERVER = """
import os, signal, sys, time
import django
django.setup()
from classifier.engine import get_classifier, warm
from classifier.images import decode_image

warm()  # in the master, as gunicorn.conf.py's when_ready does
data = open(sys.argv[1], "rb").read()
workers = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        warm()  # as post_fork does
        image = decode_image(data, filename="cat.png", max_pixels=10**8)
        for _ in range(3):
            label = get_classifier().classify(image).top_class.label
        threads = len(os.listdir("/proc/self/task"))
        os.write(1, f"worker: {label}, {threads} threads\\n".encode())  # one write: no interleaving
        sys.exit(0)  # a normal exit, as a gunicorn worker's
    workers.append(pid)

deadline = time.monotonic() + 40
for pid in workers:
    while (finished := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if finished[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        print("worker hung", flush=True)
    elif os.waitstatus_to_exitcode(finished[1]) != 0:
        print(f"worker failed: {os.waitstatus_to_exitcode(finished[1])}", flush=True)
"""


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_it_classifies_in_forked_workers_and_lets_them_exit(backend, onnx_model, settings):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "birdai.settings",
        "CLASSIFIER_BACKEND": backend,
        "CLASSIFIER_THREADS": "2",
        "CLASSIFIER_ONNX_PATH": str(onnx_model),
        "CLASSIFIER_MODEL_NAME": settings.CLASSIFIER_MODEL_NAME,
    }
    cat = SKIMAGE_DATA / "chelsea.png"
    result = subprocess.run(
        [sys.executable, "-c", PREFORK_SERVER, str(cat)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    workers = [line.split(", ") for line in result.stdout.splitlines()]
    # A worker that failed printed only "worker failed: 1"; its traceback is in stderr.
    assert [label for label, *_ in workers] == ["worker: tiger cat"] * 2, result.stderr
    # At least the two threads asked for: the worker's own pool, not the master's
    # session, whose threads stayed behind in the master.
    assert all(int(threads.split()[0]) >= 2 for _, threads in workers), result
