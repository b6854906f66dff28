"""Test settings: the real PostgreSQL + pgvector and a real broker, embedded unless URLs are given."""

from __future__ import annotations

import os

from config.embedded import configure_services
from config.replica_settings import configure_replicas

from .base import *  # noqa: F403
from .base import BASE_DIR, INSTALLED_APPS, VAR_DIR, env

DEBUG = False
SECRET_KEY = "insecure-test-key"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
MEDIA_ROOT = env.path("DJANGO_TEST_MEDIA_ROOT", default=str(VAR_DIR / "test-media"))
STATICFILES_DIRS = [BASE_DIR / "static"]

INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]  # demo, benchmarks, random CLIP builder: never in production
configure_services(globals(), VAR_DIR / "test")
configure_replicas(globals(), env)  # DATABASE_REPLICA_URLS: hot standbys (catalog/replicas.py)
CACHES["default"]["KEY_PREFIX"] = "shoplens-test"  # noqa: F405

# Worker tests (tests/worker_fixtures.py) start a real worker on the test database and broker; a
# key prefix per test run keeps its queues apart from other runs sharing the embedded Valkey.
CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env(  # noqa: F405
    "CELERY_BROKER_KEY_PREFIX", default=f"shoplens-test-{os.getpid()}:"
)
# Seconds a worker sleeps per photo before embedding a batch, so a test can kill it mid-batch.
SHOPLENS_INDEXING_TEST_DELAY_S = env.float("SHOPLENS_INDEXING_TEST_DELAY_S", default=0.0)
# A database name of one's own (pytest-django then uses test_<name>), for test runs sharing a server.
if env("SHOPLENS_TEST_DB_NAME", default=""):
    DATABASES["default"]["NAME"] = env("SHOPLENS_TEST_DB_NAME")  # noqa: F405
# A real standby (tests/replica_fixtures.py) takes this alias's place; until then it is the primary.
DATABASES["replica1"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
