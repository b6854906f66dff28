"""The Celery application; configuration lives in Django settings under ``CELERY_``."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("shoplens")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
