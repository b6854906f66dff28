"""The periodic sweep: find indexing work that was lost (a message dropped, a worker killed, the
broker down when a write committed) or that a new model version's space still lacks, photos and
product texts alike. It only finds; ``tasks.sweep_indexing`` queues."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from catalog.models import IndexingStatus, ProductImage
from visualsearch.models import EmbeddingSpace, SpaceStatus
from visualsearch.spaces import space_missing

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepWork:
    """Photos and products to queue again, and why (counts for the log and the beat result)."""

    image_ids: list[int]
    product_ids: list[int]
    stuck_images: int
    missing_images: int
    missing_products: int


def find_lost_work(*, pending_for: timedelta, spaces: Sequence[EmbeddingSpace], limit: int = 5000) -> SweepWork:
    """Photos pending for longer than ``pending_for`` and every photo or product that one of
    ``spaces`` (the current spaces, active or building: those the worker writes to) has no vector
    for: a batch lost with its worker, or a write whose enqueue failed while the broker was down.

    In an active space only rows older than ``pending_for`` count, so work that is simply still in
    the queue is not queued twice; a building space (a new model version) is filled whole. Queued
    work is idempotent, so a photo that is in fact on its way is only skipped later.
    """
    cutoff = timezone.now() - pending_for
    stuck = list(
        ProductImage.objects.filter(indexing_status=IndexingStatus.PENDING, created_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    missing_images: set[int] = set()
    missing_products: set[int] = set()
    for space in spaces:
        if space.status not in (SpaceStatus.ACTIVE, SpaceStatus.BUILDING):
            continue
        missing = space_missing(space=space)
        if space.status == SpaceStatus.ACTIVE:
            missing = missing.filter(created_at__lt=cutoff)
        target = missing_images if space.modality == "image" else missing_products
        target.update(missing.order_by("pk").values_list("pk", flat=True)[:limit])
    work = SweepWork(
        image_ids=sorted(set(stuck) | missing_images)[:limit],
        product_ids=sorted(missing_products)[:limit],
        stuck_images=len(stuck),
        missing_images=len(missing_images),
        missing_products=len(missing_products),
    )
    if work.image_ids or work.product_ids:
        logger.info(
            "Indexing sweep found %d stuck photos, %d photos and %d products without a vector in a current space",
            work.stuck_images, work.missing_images, work.missing_products,
        )  # fmt: skip
    return work
