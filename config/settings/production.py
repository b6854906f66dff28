"""Production settings: refuse to start with an unsafe configuration."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from config.replica_settings import configure_replicas

from .base import *  # noqa: F403
from .base import DATABASES, LOGGING, REDIS_URL, REST_FRAMEWORK, env

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
configure_replicas(globals(), env)  # DATABASE_REPLICA_URLS: hot standbys (catalog/replicas.py)

if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production.")
if len(SECRET_KEY) < 32 or SECRET_KEY.startswith("insecure") or "change-me" in SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is too weak: use at least 32 random characters.")
if DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must not be on in production.")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the site's host names in production.")
if "default" not in DATABASES:
    raise ImproperlyConfigured("DATABASE_URL must be set in production.")
if not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set in production.")

# Connections: a bounded psycopg pool per process (CONN_MAX_AGE must be 0 with a pool). A request
# waits at most DATABASE_POOL_TIMEOUT seconds for one, so a lost database answers 503 quickly.
_database_options: dict[str, object] = DATABASES["default"].setdefault("OPTIONS", {})  # type: ignore[assignment]
if env.bool("DATABASE_POOL", default=True):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    _database_options["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=4),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=0.5),
        "max_idle": 300,
    }
_database_options.setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=2))

# The gateway (deploy/nginx) is the one trusted hop: it appends the peer it saw to
# X-Forwarded-For and sets X-Forwarded-Proto. Behind a load balancer too, DJANGO_NUM_PROXIES=2.
REST_FRAMEWORK["NUM_PROXIES"] = env.int("DJANGO_NUM_PROXIES", default=1)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$", r"^metrics$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING["handlers"]["console"]["formatter"] = env("DJANGO_LOG_FORMAT", default="json")  # type: ignore[index]
SHOPLENS_WARMUP = env.bool("SHOPLENS_WARMUP", default=True)
