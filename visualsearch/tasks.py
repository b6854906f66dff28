"""Celery tasks for indexing. Thin and idempotent: they take ids, call ``visualsearch.indexing``
and can run twice (a redelivered batch after a worker died) without changing the result.
All of them run on the ``embeddings`` queue (``CELERY_TASK_ROUTES``)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from visualsearch import indexing, services

logger = logging.getLogger(__name__)

# Errors that may pass on their own: storage hiccups, the database restarting, a model that
# failed on a whole batch. Bad photos are not among them; they are marked failed at once.
TRANSIENT_ERRORS = (indexing.TransientIndexingError, OperationalError, InterfaceError, ConnectionError, TimeoutError)
RETRY_OPTIONS: dict[str, Any] = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 5,  # 5 s, 10 s, 20 s, ... with jitter
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


@shared_task(bind=True, **RETRY_OPTIONS)
def embed_product_images(self: Task, image_ids: list[int], force: bool = False) -> dict[str, int]:
    """Embed the photos with every enabled image encoder; on the last retry, photos that still
    hit a transient error are marked failed with the reason instead of raising again."""
    _test_delay(len(image_ids))
    final_attempt = self.request.retries >= (self.max_retries or 0)
    report = indexing.embed_images(image_ids=image_ids, force=force, final_attempt=final_attempt)
    return {"embedded": report.embedded, "reused": report.reused, "skipped": report.skipped, "failed": report.failed}


@shared_task(bind=True, **RETRY_OPTIONS)
def embed_product_texts(self: Task, product_ids: list[int], force: bool = False) -> dict[str, int]:
    """Embed the products' texts (name, brand, category, description) with the text encoder."""
    report = indexing.embed_product_texts(product_ids=product_ids, force=force)
    return {"embedded": report.embedded, "skipped": report.skipped}


@shared_task(acks_late=True)
def sweep_indexing() -> dict[str, object]:
    """Periodic (beat): open the space of a new model version, re-queue stuck or missing work,
    and switch search to a building space once it is complete."""
    indexing.ensure_current_spaces()
    report = services.indexing_sweep(pending_for=timedelta(minutes=settings.SHOPLENS_INDEXING_STUCK_MINUTES))
    return {
        "stuck_images": report.stuck_images,
        "missing_images": report.missing_images,
        "missing_products": report.missing_products,
        "promoted": list(report.promoted),
    }


def _test_delay(count: int) -> None:
    """Worker tests slow a batch down (``SHOPLENS_INDEXING_TEST_DELAY_S`` per photo) to kill it mid-way."""
    delay = float(getattr(settings, "SHOPLENS_INDEXING_TEST_DELAY_S", 0) or 0)
    if delay:
        logger.info("Test delay: %.1f s for %d photos", delay * count, count)
        time.sleep(delay * count)
