"""Celery tasks for indexing, and ``enqueue_indexing``, the one place that cuts ids into task-sized
batches. Tasks are thin and idempotent: they take ids, call ``visualsearch.indexing`` and can run
twice (a redelivered batch after a worker died) without changing the result. All of them run on
the ``embeddings`` queue (``CELERY_TASK_ROUTES``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import kombu.exceptions
import redis.exceptions
from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from catalog.models import IndexingStatus, ProductImage
from catalog.thumbnails import generate_thumbnails
from visualsearch import indexing, spaces, sweep

logger = logging.getLogger(__name__)

IMAGE_BATCH_SIZE = 32  # photos per task: one model call per encoder
TEXT_BATCH_SIZE = 64  # products per task
# What publishing raises when Redis/Valkey is down or unreachable (after Celery's publish retries).
BROKER_ERRORS = (kombu.exceptions.OperationalError, redis.exceptions.ConnectionError, ConnectionError, TimeoutError)

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


def batched(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    """``ids`` in lists of at most ``size``, in order."""
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def enqueue_indexing(
    *,
    image_ids: Sequence[int] = (),
    product_ids: Sequence[int] = (),
    force: bool = False,
    image_batch_size: int = IMAGE_BATCH_SIZE,
    text_batch_size: int = TEXT_BATCH_SIZE,
) -> bool:
    """Queue embedding of the photos and product texts now, in task-sized batches; False when the
    broker could not be reached. That is logged, not raised: the write that asked has committed
    and its user is told it succeeded; its photos stay pending and the sweep queues them, and
    products lacking a text vector, once the broker is back."""
    try:
        for chunk in batched(image_ids, image_batch_size):
            embed_product_images.delay(chunk, force=force)
        for chunk in batched(product_ids, text_batch_size):
            embed_product_texts.delay(chunk, force=force)
    except BROKER_ERRORS as exc:
        logger.warning(
            "Broker unreachable; indexing of %d photos and %d products is left to the sweep: %s",
            len(image_ids), len(product_ids), exc,
        )  # fmt: skip
        return False
    return True


@shared_task(bind=True, **RETRY_OPTIONS)
def embed_product_images(self: Task, image_ids: list[int], force: bool = False) -> dict[str, int]:
    """Embed the photos with every enabled image encoder; on the last retry, photos that still
    hit a transient error are marked failed with the reason instead of raising again."""
    _test_delay(len(image_ids))
    final_attempt = self.request.retries >= (self.max_retries or 0)
    report = indexing.embed_images(image_ids=image_ids, force=force, final_attempt=final_attempt)
    generate_thumbnails(ProductImage.objects.filter(pk__in=image_ids, indexing_status=IndexingStatus.READY))
    return {"embedded": report.embedded, "reused": report.reused, "skipped": report.skipped, "failed": report.failed}


@shared_task(bind=True, **RETRY_OPTIONS)
def embed_product_texts(self: Task, product_ids: list[int], force: bool = False) -> dict[str, int]:
    """Embed the products' texts (``Product.search_text``) with the text encoder."""
    _test_delay(len(product_ids))
    report = indexing.embed_product_texts(product_ids=product_ids, force=force)
    return {"embedded": report.embedded, "skipped": report.skipped}


@shared_task(acks_late=True)
def sweep_indexing() -> dict[str, object]:
    """Periodic (beat): open the space of a new model version, re-queue stuck or missing work,
    and switch search to a building space once it is complete."""
    current = spaces.ensure_current_spaces()
    work = sweep.find_lost_work(pending_for=timedelta(minutes=settings.SHOPLENS_INDEXING_STUCK_MINUTES), spaces=current)
    enqueue_indexing(image_ids=work.image_ids, product_ids=work.product_ids)
    promoted = spaces.spaces_promote_complete()
    return {
        "stuck_images": work.stuck_images,
        "missing_images": work.missing_images,
        "missing_products": work.missing_products,
        "promoted": [space.pk for space in promoted],
    }


def _test_delay(count: int) -> None:
    """Worker tests slow a batch down (``SHOPLENS_INDEXING_TEST_DELAY_S`` per photo or product) to kill it mid-way."""
    delay = float(getattr(settings, "SHOPLENS_INDEXING_TEST_DELAY_S", 0) or 0)
    if delay:
        logger.info("Test delay: %.1f s for %d photos", delay * count, count)
        time.sleep(delay * count)
