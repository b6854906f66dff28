"""Settings shared by every environment; values come from the environment (django-environ)."""

from __future__ import annotations

from pathlib import Path

import environ

from config.settings.visual_encoder import visual_encoder

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "imagekit",
    # One direction of imports: storefront -> visualsearch -> catalog (docs/architecture.md).
    "catalog",
    "visualsearch",
    "storefront",
    "operations",  # probes, metrics, request ids: imports catalog and visualsearch, imported by none
    "analytics",  # listens to search (visualsearch.search.events); nothing below imports it
]

MIDDLEWARE = [
    "operations.request_ids.RequestIdMiddleware",
    "operations.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "operations.unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# --- Database and broker --------------------------------------------------------------
# DATABASE_URL / REDIS_URL point at real services. When unset, the local and test
# settings start embedded ones (config/embedded.py); production requires both.
DATABASES: dict[str, dict[str, object]] = {}
if env("DATABASE_URL", default=""):
    DATABASES["default"] = env.db("DATABASE_URL")
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
REDIS_URL: str = env("REDIS_URL", default="")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "shoplens",
        "TIMEOUT": 60 * 60 * 24,
    }
}

from .operations import *  # noqa: E402, F403 - logs, probes, metrics, thumbnails, offline docs
from .operations import IMAGEKIT_CACHE, SPECTACULAR_OFFLINE_DOCS  # noqa: E402

CACHES["imagekit"] = IMAGEKIT_CACHE  # type: ignore[assignment]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media files -----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env("DJANGO_MEDIA_URL", default="/media/")
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media"))

AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    # S3 or any S3-compatible store (MinIO: set AWS_S3_ENDPOINT_URL).
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env("AWS_S3_REGION_NAME", default=None),
            "access_key": env("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env("AWS_SECRET_ACCESS_KEY", default=None),
            "custom_domain": env("AWS_S3_CUSTOM_DOMAIN", default=None),
            "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=False),
            "file_overwrite": False,
            "location": "media",
        },
    }
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Uploads bigger than this are refused before an image decoder sees them.
SHOPLENS_MAX_UPLOAD_BYTES = env.int("SHOPLENS_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
SHOPLENS_MAX_IMAGE_PIXELS = env.int("SHOPLENS_MAX_IMAGE_PIXELS", default=40_000_000)
SHOPLENS_MAX_IMAGE_ASPECT_RATIO = env.int("SHOPLENS_MAX_IMAGE_ASPECT_RATIO", default=20)
SHOPLENS_MAX_REQUEST_BYTES = env.int("SHOPLENS_MAX_REQUEST_BYTES", default=SHOPLENS_MAX_UPLOAD_BYTES * 5 + 2**20)
DATA_UPLOAD_MAX_MEMORY_SIZE = SHOPLENS_MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
SHOPLENS_DEFAULT_CURRENCY = env("SHOPLENS_DEFAULT_CURRENCY", default="USD")

# --- Encoders ---------------------------------------------------------------------------
SHOPLENS_ENABLED_ENCODERS: list[str] = env.list("SHOPLENS_ENABLED_ENCODERS", default=["clip", "visual", "text"])
SHOPLENS_ENCODERS: dict[str, dict[str, object]] = {
    "clip": {
        "BACKEND": "visualsearch.encoders.clip.ClipEncoder",
        "MODEL": env("CLIP_MODEL", default="clip-ViT-B-32"),
        "DEVICE": env("ENCODER_DEVICE", default="auto"),
        "BATCH_SIZE": env.int("CLIP_BATCH_SIZE", default=32),
        # int8: dynamically quantised image tower (CPU only); a new version, so a new embedding space
        "PRECISION": env("CLIP_PRECISION", default="fp32"),
    },
    "visual": visual_encoder(env),  # config/settings/visual_encoder.py
    "text": {
        "BACKEND": "visualsearch.encoders.text.TextEncoder",
        "MODEL": env("TEXT_MODEL", default="all-MiniLM-L6-v2"),
        "DEVICE": env("ENCODER_DEVICE", default="auto"),
        "BATCH_SIZE": env.int("TEXT_BATCH_SIZE", default=64),
    },
}

# CPU threads torch may use per process (0: one per core). A worker of concurrency N on C cores
# runs best with C // N: more threads than cores make every process wait on the slowest thread.
SHOPLENS_TORCH_THREADS = env.int("SHOPLENS_TORCH_THREADS", default=0)

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # a killed worker's batch goes back on the queue
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
    # An unacknowledged task (its worker died) is handed out again after this long. Must exceed
    # CELERY_TASK_TIME_LIMIT, or a batch still running would be handed out a second time
    # (system check visualsearch.E002); the sweep usually redoes a lost batch sooner.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
    # How often a worker looks for such tasks: every interval x throttle seconds.
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
}
if env("CELERY_BROKER_KEY_PREFIX", default=""):
    # Several sites (or a benchmark, or a test run) sharing one Redis keep their queues apart.
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env("CELERY_BROKER_KEY_PREFIX")
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"visualsearch.tasks.*": {"queue": "embeddings"}}
# Run indexing inside the calling process instead of on a worker (demo, one-off shells).
CELERY_TASK_ALWAYS_EAGER = env.bool("SHOPLENS_INDEX_IN_PROCESS", default=False)
CELERY_TASK_EAGER_PROPAGATES = False
# Photos still pending after this many minutes are queued again by the sweep.
SHOPLENS_INDEXING_STUCK_MINUTES = env.int("SHOPLENS_INDEXING_STUCK_MINUTES", default=5)
SHOPLENS_INDEXING_SWEEP_SECONDS = env.int("SHOPLENS_INDEXING_SWEEP_SECONDS", default=120)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "indexing-sweep": {
        "task": "visualsearch.tasks.sweep_indexing",
        "schedule": SHOPLENS_INDEXING_SWEEP_SECONDS,
        "options": {"expires": SHOPLENS_INDEXING_SWEEP_SECONDS * 0.8},  # never two sweeps queued
    },
}

# --- REST API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "catalog.api.errors.api_exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 24,
    "DEFAULT_THROTTLE_CLASSES": [
        "catalog.api.throttling.AnonRateThrottle",
        "catalog.api.throttling.UserRateThrottle",
    ],
    # Proxies whose X-Forwarded-For entry is trusted (0: the socket's peer; production: 1, the gateway).
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_ANON_THROTTLE_RATE", default="60/min"),
        "user": env("API_USER_THROTTLE_RATE", default="600/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "shoplens API",
    "DESCRIPTION": "Visual and text product search for online shops.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    **SPECTACULAR_OFFLINE_DOCS,
}


# --- Storefront pages -------------------------------------------------------------------
SHOPLENS_UI_PAGE_SIZE = env.int("SHOPLENS_UI_PAGE_SIZE", default=24)  # catalogue grid
SHOPLENS_UI_SEARCH_LIMIT = env.int("SHOPLENS_UI_SEARCH_LIMIT", default=24)  # text / photo results
SHOPLENS_UI_SIMILAR_LIMIT = env.int("SHOPLENS_UI_SIMILAR_LIMIT", default=8)  # "similar products"
SHOPLENS_UI_MAX_QUERY_IMAGES = env.int("SHOPLENS_UI_MAX_QUERY_IMAGES", default=5)  # "more like these"

# --- Search (visualsearch.selectors) ----------------------------------------------------
# Weights of each signal's cosine similarity per query kind; renormalised over the signals
# available (an encoder that cannot load, or has no active space, drops out).
#   clip: CLIP image vector vs photo vectors     visual: EfficientNet-Lite0 vs photo vectors
#   clip_text: CLIP text vector vs photo vectors text: MiniLM query vs product-text vectors
SHOPLENS_SEARCH_WEIGHTS: dict[str, dict[str, float]] = {
    "image": {"clip": 0.6, "visual": 0.4},
    "text": {"clip_text": 0.3, "text": 0.7},
    "image_text": {"clip": 0.35, "visual": 0.25, "clip_text": 0.15, "text": 0.25},
    "product": {"clip": 0.45, "visual": 0.35, "text": 0.2},
}
# Photo vectors fetched per signal from the HNSW index (at least 2 x limit; more are fetched when
# they hold fewer than limit distinct products).
SHOPLENS_SEARCH_CANDIDATES = env.int("SHOPLENS_SEARCH_CANDIDATES", default=20)
SHOPLENS_SEARCH_EF_SEARCH = env.int("SHOPLENS_SEARCH_EF_SEARCH", default=40)
SHOPLENS_SEARCH_ITERATIVE_SCAN = env("SHOPLENS_SEARCH_ITERATIVE_SCAN", default="relaxed_order")
SHOPLENS_SEARCH_MAX_SCAN_TUPLES = env.int("SHOPLENS_SEARCH_MAX_SCAN_TUPLES", default=40_000)
# maintenance_work_mem for (re)building HNSW indexes in migrations: builds are several times
# faster while the graph fits in it (about 400 MB per 100 000 photos of a 1308-d space).
SHOPLENS_INDEX_BUILD_MEMORY = env("SHOPLENS_INDEX_BUILD_MEMORY", default="1GB")
# A filter matching at most this many products (or this share of the catalogue, if more: 10 000 of
# 1 000 000) is answered by an exact scan of those products.
SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS = env.int("SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS", default=3000)
SHOPLENS_SEARCH_EXACT_MAX_SHARE = env.float("SHOPLENS_SEARCH_EXACT_MAX_SHARE", default=0.01)
SHOPLENS_SEARCH_MAX_LIMIT = 100
# "Not like this": query = normalise(mean(positives) - NEGATIVE_WEIGHT * mean(negatives)) (Rocchio).
SHOPLENS_SEARCH_NEGATIVE_WEIGHT = 0.5
# match_percent: each signal's cosine is mapped linearly from (low -> 0 %, high -> 100 %), clamped,
# then weighted like the score. CLIP text-image cosines live far lower than image-image ones.
SHOPLENS_SEARCH_MATCH_CALIBRATION: dict[str, tuple[float, float]] = {
    "clip": (0.5, 0.95),
    "visual": (0.3, 0.95),
    "clip_text": (0.15, 0.35),
    "text": (0.05, 0.7),
}
SHOPLENS_SEARCH_THROTTLE_RATE = env("SHOPLENS_SEARCH_THROTTLE_RATE", default="30/min")
from config.settings.search import *  # noqa: E402, F403  (relevance floor, hybrid text, re-ranking)

from .search_analytics import *  # noqa: E402, F403 - SHOPLENS_ANALYTICS_* (search analytics)
