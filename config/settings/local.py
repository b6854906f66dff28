"""Development settings: DEBUG on, embedded PostgreSQL and Valkey unless URLs are given."""

from __future__ import annotations

from config.embedded import configure_services
from config.replica_settings import configure_replicas

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-development-key-not-for-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405

INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]  # demo, benchmarks, random CLIP builder: never in production
configure_services(globals(), VAR_DIR)
configure_replicas(globals(), env)  # DATABASE_REPLICA_URLS: hot standbys (catalog/replicas.py)
