"""Search analytics (analytics/): searches and clicks are recorded after the response; an IP
address never is. Star-imported at the end of ``base``; the retention task is scheduled by
``config.celery``."""

from __future__ import annotations

import environ

env = environ.Env()  # base has read .env into the environment already

SHOPLENS_ANALYTICS_ENABLED = env.bool("SHOPLENS_ANALYTICS_ENABLED", default=True)
# Events (and their clicks) older than this are deleted once a day.
SHOPLENS_ANALYTICS_RETENTION_DAYS = env.int("SHOPLENS_ANALYTICS_RETENTION_DAYS", default=90)
# Keep a 160-pixel JPEG of each query photo for review in the dashboard (off: only SHA-256s).
SHOPLENS_ANALYTICS_KEEP_THUMBNAILS = env.bool("SHOPLENS_ANALYTICS_KEEP_THUMBNAILS", default=False)
# Secret for the session-key hash (empty: derived from SECRET_KEY); rotating it unlinks old events.
SHOPLENS_ANALYTICS_SALT = env("SHOPLENS_ANALYTICS_SALT", default="")
SHOPLENS_ANALYTICS_RETENTION_RUN_SECONDS = 24 * 60 * 60
