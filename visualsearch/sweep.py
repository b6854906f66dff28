"""The periodic sweep: find indexing work that was lost (a message dropped, a worker killed) or
that a new model version's space still lacks. It only finds; ``tasks.sweep_indexing`` queues."""

from __future__ import annotations

import logging
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


def find_lost_work(*, pending_for: timedelta, limit: int = 5000) -> SweepWork:
    """Photos pending for longer than ``pending_for`` and whatever a building space still lacks.

    Queued work is idempotent, so a photo that is in fact on its way is only skipped later.
    """
    cutoff = timezone.now() - pending_for
    stuck = list(
        ProductImage.objects.filter(indexing_status=IndexingStatus.PENDING, created_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    missing_images: set[int] = set()
    missing_products: set[int] = set()
    for space in EmbeddingSpace.objects.filter(status=SpaceStatus.BUILDING):
        target = missing_images if space.modality == "image" else missing_products
        target.update(space_missing(space=space).order_by("pk").values_list("pk", flat=True)[:limit])
    work = SweepWork(
        image_ids=sorted(set(stuck) | missing_images)[:limit],
        product_ids=sorted(missing_products)[:limit],
        stuck_images=len(stuck),
        missing_images=len(missing_images),
        missing_products=len(missing_products),
    )
    if work.image_ids or work.product_ids:
        logger.info(
            "Indexing sweep found %d stuck photos, %d photos and %d products missing from building spaces",
            work.stuck_images, work.missing_images, work.missing_products,
        )  # fmt: skip
    return work
