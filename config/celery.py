"""The Celery application; configuration lives in Django settings under ``CELERY_``."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import celeryd_after_setup, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("shoplens")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def schedule_periodic_tasks(sender: Celery, **kwargs: Any) -> None:
    """Search analytics: delete events past ``SHOPLENS_ANALYTICS_RETENTION_DAYS`` once a day."""
    from django.conf import settings

    sender.add_periodic_task(
        settings.SHOPLENS_ANALYTICS_RETENTION_RUN_SECONDS,
        sender.signature("analytics.tasks.delete_expired_events"),
        name="analytics-retention",
    )


@celeryd_after_setup.connect
def share_cores_between_worker_processes(sender: str, instance: Any, **kwargs: Any) -> None:
    """Prefork children are forked after this: each gets ``cores // concurrency`` torch threads
    (unless ``SHOPLENS_TORCH_THREADS`` is set), so N processes never fight over the same cores."""
    concurrency = getattr(instance, "concurrency", None)
    if "prefork" in str(getattr(instance, "pool_cls", "")) and isinstance(concurrency, int) and concurrency > 0:
        from visualsearch.encoders import share_cores

        share_cores(processes=concurrency)


@worker_process_init.connect
def load_models_before_the_first_task(**kwargs: Any) -> None:
    """Each worker process loads its models at start (``SHOPLENS_WARMUP``), not on its first batch."""
    from operations.warmup import warm_up, warm_up_enabled

    if warm_up_enabled():
        warm_up()
