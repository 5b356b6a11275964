"""gunicorn settings for bird.ai: `gunicorn -c gunicorn.conf.py birdai.wsgi`.

Every value can be changed from the environment (GUNICORN_*), so one container image
fits a 1 GiB free-tier instance and a bigger machine alike.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Inference is CPU-bound: about one worker per core. Each worker uses
# CLASSIFIER_THREADS threads for the model, so workers x threads ~ cores.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# More than one thread lets a worker take a new request while another one uploads.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))

# Load Django (and warm the model, below) once in the master; forked workers share
# those pages instead of each loading its own copy.
preload_app = True

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# The request id, time taken (µs) and upstream address help when reading load tests.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus "%(a)s"'


def when_ready(server) -> None:
    """In the master, after the app is loaded and before workers are forked."""
    from classifier.engine import warm

    warm()
    server.log.info("classifier warmed in the master process")


def post_fork(server, worker) -> None:
    """In each worker: finish what cannot cross a fork (see classifier/engine.py)."""
    from classifier.engine import warm

    warm()
