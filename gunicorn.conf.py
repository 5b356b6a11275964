"""gunicorn settings for bird.ai: `gunicorn -c gunicorn.conf.py birdai.wsgi`.

Every value can be changed from the environment (GUNICORN_*), so one container image
fits a 1 GiB free-tier instance and a bigger machine alike.
"""

import ctypes
import os

bind = os.environ.get("GUNICORN_BIND") or "0.0.0.0:8000"
# Inference is CPU-bound: about one worker per core. Each worker uses
# CLASSIFIER_THREADS threads for the model, so workers x threads ~ cores.
workers = int(os.environ.get("GUNICORN_WORKERS") or "2")
# More than one thread lets a worker take a new request while another one uploads.
threads = int(os.environ.get("GUNICORN_THREADS") or "1")
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or "30")
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT") or "20")
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE") or "5")

# Each worker loads Django and the classifier itself, after the fork. Measured with
# `make bench` (2 workers, onnx): loading them once in the master first saved no memory
# (PSS 323 MB preloaded, 313 MB not), because the big parts are shared libraries, which
# processes share anyway, and an ONNX Runtime session cannot cross a fork, so every
# worker builds its own. A master that loads nothing stays at about 26 MB.
# GUNICORN_PRELOAD=true loads the app and warms the classifier in the master before it
# forks (a broken model then stops the server before any worker starts).
preload_app = (os.environ.get("GUNICORN_PRELOAD") or "false").lower() in {"1", "true", "yes", "on"}

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL") or "info"
# The request id, time taken (µs) and upstream address help when reading load tests.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus "%(a)s"'


def when_ready(server) -> None:
    """In the master, once it listens and before it forks the workers."""
    if preload_app:
        from classifier.engine import warm

        warm()
        server.log.info("classifier warmed in the master process")


def post_worker_init(worker) -> None:
    """In each worker, once it has loaded the app and before its first request."""
    from classifier.engine import warm

    warm()  # with preload: opens this worker's own session (see classifier/backends.py)
    return_freed_memory_to_the_os()
    worker.log.info("classifier warmed in worker %s", os.getpid())


def return_freed_memory_to_the_os() -> None:
    """Building an ONNX Runtime session parses the model file into scratch memory and
    frees it again; glibc keeps freed memory for reuse unless asked to give it back.
    Asking returns about 10 MB per worker (measured with `make bench`)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc (Alpine's musl, macOS): nothing to give back this way
