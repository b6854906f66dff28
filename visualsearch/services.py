"""Writes of the search side: embedding spaces, their indexes, and scheduling of indexing."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from catalog.models import IndexingStatus, Product, ProductImage
from visualsearch.models import EmbeddingSpace, ImageEmbedding, ProductTextEmbedding, SpaceStatus
from visualsearch.search.engine import hnsw_index_sql

if TYPE_CHECKING:
    from visualsearch.encoders.base import Encoder

logger = logging.getLogger(__name__)


def schedule_indexing(*, image_ids: Sequence[int] = (), product_ids: Sequence[int] = (), force: bool = False) -> None:
    """Queue embedding of photos and product texts once the current transaction commits,
    so a worker never looks for rows that are not there yet."""
    from visualsearch import tasks

    image_ids, product_ids = list(image_ids), list(product_ids)
    batch = _indexing_batch.get()
    if batch is not None:  # inside indexing_batched(): enqueued together when the block ends
        transaction.on_commit(lambda: batch.add(image_ids, product_ids, force))
        return
    if image_ids:
        transaction.on_commit(lambda: tasks.embed_product_images.delay(image_ids, force=force))
    if product_ids:
        transaction.on_commit(lambda: tasks.embed_product_texts.delay(product_ids, force=force))


class IndexingBatch:
    """Ids collected by ``indexing_batched``, per ``force`` flag."""

    def __init__(self) -> None:
        self.image_ids: dict[bool, list[int]] = {False: [], True: []}
        self.product_ids: dict[bool, list[int]] = {False: [], True: []}

    def add(self, image_ids: list[int], product_ids: list[int], force: bool) -> None:
        self.image_ids[force].extend(image_ids)
        self.product_ids[force].extend(product_ids)


_indexing_batch: ContextVar[IndexingBatch | None] = ContextVar("indexing_batch", default=None)


@contextmanager
def indexing_batched(*, batch_size: int = 64, enqueue: bool = True) -> Iterator[IndexingBatch]:
    """Collect the indexing that committed writes schedule inside the block and enqueue it at the
    end in lists of ``batch_size`` ids (bulk imports: a few big tasks instead of one per photo).
    Writes that roll back schedule nothing. With ``enqueue=False`` the caller indexes the
    collected ids itself (the demo's in-process indexing). A nested block joins the outer one."""
    from visualsearch import tasks

    outer = _indexing_batch.get()
    if outer is not None:
        yield outer
        return
    batch = IndexingBatch()
    token = _indexing_batch.set(batch)

    def send() -> None:
        for force in (False, True):
            images = list(dict.fromkeys(batch.image_ids[force]))
            products = list(dict.fromkeys(batch.product_ids[force]))
            for start in range(0, len(images), batch_size):
                tasks.embed_product_images.delay(images[start : start + batch_size], force=force)
            for start in range(0, len(products), batch_size):
                tasks.embed_product_texts.delay(products[start : start + batch_size], force=force)

    try:
        yield batch
    finally:
        _indexing_batch.reset(token)
        if enqueue:
            # Runs now in autocommit, else after the enclosing commit (and after the rows' own hooks).
            transaction.on_commit(send)


def space_for_encoder(*, encoder: Encoder, modality: str) -> EmbeddingSpace:
    """The space for the encoder's current model version, created (with its HNSW index) when new.

    The first space of an encoder is active at once; later ones start as ``building`` and
    are promoted by :func:`space_activate` once they cover the catalogue.
    """
    space = EmbeddingSpace.objects.filter(
        encoder=encoder.name, model_version=encoder.version, modality=modality
    ).first()
    if space is None:
        with transaction.atomic():
            has_active = (
                EmbeddingSpace.objects.select_for_update()
                .filter(encoder=encoder.name, modality=modality, status=SpaceStatus.ACTIVE)
                .exists()
            )
            space, created = EmbeddingSpace.objects.get_or_create(
                encoder=encoder.name,
                model_version=encoder.version,
                modality=modality,
                defaults={
                    "model_name": encoder.model_name,
                    "dimension": encoder.dimension,
                    "status": SpaceStatus.BUILDING if has_active else SpaceStatus.ACTIVE,
                    "activated_at": None if has_active else timezone.now(),
                },
            )
            if created:
                # Only for a new space: CREATE INDEX locks the table against concurrent inserts.
                space_ensure_index(space=space)
    return space


def space_ensure_index(*, space: EmbeddingSpace) -> None:
    """Create the space's partial HNSW index (cosine distance) if it does not exist."""
    with connection.cursor() as cursor:
        cursor.execute(
            hnsw_index_sql(table=space.table, index_name=space.index_name, dimension=space.dimension, space_id=space.pk)
        )


@transaction.atomic
def space_activate(*, space: EmbeddingSpace) -> EmbeddingSpace:
    """Make ``space`` the one searched for its encoder; the previous one is retired, not deleted."""
    EmbeddingSpace.objects.select_for_update().filter(encoder=space.encoder, modality=space.modality).exclude(
        pk=space.pk
    ).filter(status=SpaceStatus.ACTIVE).update(status=SpaceStatus.RETIRED)
    space.status = SpaceStatus.ACTIVE
    space.activated_at = timezone.now()
    space.save(update_fields=["status", "activated_at"])
    return space


def space_prune(*, space: EmbeddingSpace) -> int:
    """Delete a retired space with its vectors and index; returns the number of vectors removed."""
    if space.status != SpaceStatus.RETIRED:
        raise ValueError(f"Only retired spaces can be pruned; {space} is {space.status}.")
    count = space.image_embeddings.count() + space.text_embeddings.count()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f'DROP INDEX IF EXISTS "{space.index_name}"')
        space.delete()
    return count


@dataclass(frozen=True)
class SpaceCoverage:
    """How much of the catalogue a space holds: photos that are not failed (image spaces) or
    products (text spaces)."""

    space: EmbeddingSpace
    required: int
    covered: int

    @property
    def missing(self) -> int:
        return max(self.required - self.covered, 0)

    @property
    def complete(self) -> bool:
        return self.covered >= self.required

    @property
    def percent(self) -> float:
        return 100.0 if not self.required else round(100.0 * min(self.covered, self.required) / self.required, 1)


def space_missing(*, space: EmbeddingSpace) -> QuerySet:
    """Photos (image space) or products (text space) the space has no vector for yet; failed
    photos are left out, as no model can embed them."""
    if space.modality == "image":
        return ProductImage.objects.exclude(indexing_status=IndexingStatus.FAILED).exclude(
            Exists(ImageEmbedding.objects.filter(space=space, image=OuterRef("pk")))
        )
    return Product.objects.exclude(Exists(ProductTextEmbedding.objects.filter(space=space, product=OuterRef("pk"))))


def space_coverage(*, space: EmbeddingSpace) -> SpaceCoverage:
    if space.modality == "image":
        required = ProductImage.objects.exclude(indexing_status=IndexingStatus.FAILED).count()
    else:
        required = Product.objects.count()
    return SpaceCoverage(space=space, required=required, covered=required - space_missing(space=space).count())


def spaces_promote_complete() -> list[EmbeddingSpace]:
    """Activate every building space that now covers the catalogue (the old one is retired), so
    search switches to a new model version only once it can answer as fully as the old one."""
    promoted = []
    for space in EmbeddingSpace.objects.filter(status=SpaceStatus.BUILDING).order_by("created_at"):
        coverage = space_coverage(space=space)
        if coverage.complete:
            promoted.append(space_activate(space=space))
            logger.info("Activated embedding space %s (%d vectors)", space, coverage.covered)
    return promoted


@dataclass(frozen=True)
class SweepReport:
    stuck_images: int
    missing_images: int
    missing_products: int
    promoted: tuple[int, ...]


def indexing_sweep(*, pending_for: timedelta, limit: int = 5000, batch_size: int = 32) -> SweepReport:
    """Re-queue photos pending for longer than ``pending_for`` (a lost message, a crashed worker)
    and whatever a building space still lacks; then promote building spaces that are complete.

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
    image_ids = sorted(set(stuck) | missing_images)[:limit]
    product_ids = sorted(missing_products)[:limit]
    for start in range(0, len(image_ids), batch_size):
        schedule_indexing(image_ids=image_ids[start : start + batch_size])
    for start in range(0, len(product_ids), batch_size):
        schedule_indexing(product_ids=product_ids[start : start + batch_size])
    promoted = spaces_promote_complete()
    if stuck or missing_images or missing_products:
        logger.info(
            "Indexing sweep queued %d stuck photos, %d photos and %d products missing from building spaces",
            len(stuck), len(missing_images), len(missing_products),
        )  # fmt: skip
    return SweepReport(
        stuck_images=len(stuck),
        missing_images=len(missing_images),
        missing_products=len(missing_products),
        promoted=tuple(space.pk for space in promoted),
    )
