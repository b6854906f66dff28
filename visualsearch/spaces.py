"""Embedding spaces: the one lookup of a space row, its HNSW index, activation, coverage, pruning.

Each (encoder, model version, modality) is a space with a partial HNSW index over its
half-precision vectors cast to the space's width."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from catalog.models import IndexingStatus, Product, ProductImage
from visualsearch.encoders import IMAGE, TEXT, load_encoders
from visualsearch.models import (
    EmbeddingSpace,
    ImageEmbedding,
    ProductTextEmbedding,
    SpaceStatus,
    indexed_vector_sql,
)

if TYPE_CHECKING:
    from visualsearch.encoders.base import Encoder

logger = logging.getLogger(__name__)


def space_for_encoder(*, encoder: Encoder, modality: str) -> EmbeddingSpace:
    """The space for the encoder's current model version, created (with its HNSW index) when new,
    and given its index again if it went missing.

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
                    "index_dimension": encoder.index_dimension,
                    "status": SpaceStatus.BUILDING if has_active else SpaceStatus.ACTIVE,
                    "activated_at": None if has_active else timezone.now(),
                },
            )
            if created:
                space_ensure_index(space=space)
        return space
    # A plain catalogue lookup, not CREATE INDEX IF NOT EXISTS on every batch: that statement
    # locks the vector table against other workers' inserts while it checks.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [space.index_name])
        missing = cursor.fetchone() is None
    if missing:
        space_ensure_index(space=space)
    return space


def hnsw_index_sql(
    *, table: str, index_name: str, dimension: int, space_id: int, m: int | None = None,
    ef_construction: int | None = None, index_dimension: int | None = None,
) -> str:  # fmt: skip
    """The partial HNSW index (cosine distance, half precision) of one embedding space, over
    the whole vector or its leading ``index_dimension`` components; ``m`` and
    ``ef_construction`` default to ``SHOPLENS_INDEX_HNSW_M`` / ``_EF_CONSTRUCTION``."""
    m = int(settings.SHOPLENS_INDEX_HNSW_M if m is None else m)
    ef_construction = int(settings.SHOPLENS_INDEX_HNSW_EF_CONSTRUCTION if ef_construction is None else ef_construction)
    return (
        f'CREATE INDEX IF NOT EXISTS "{index_name}" ON "{table}" '
        f"USING hnsw (({indexed_vector_sql('vector', dimension, index_dimension)}) halfvec_cosine_ops) "
        f"WITH (m = {m}, ef_construction = {ef_construction}) WHERE space_id = {int(space_id)}"
    )


def space_ensure_index(*, space: EmbeddingSpace) -> None:
    """Create the space's partial HNSW index if it does not exist."""
    with connection.cursor() as cursor:
        cursor.execute(
            hnsw_index_sql(
                table=space.table,
                index_name=space.index_name,
                dimension=space.dimension,
                space_id=space.pk,
                index_dimension=space.index_dimension,
            )
        )


def ensure_current_spaces() -> list[EmbeddingSpace]:
    """Open the space of every enabled encoder's current model version (``building`` beside the
    active one after a version change), so the sweep can start filling it."""
    return [
        space_for_encoder(encoder=encoder, modality=modality)
        for modality in (IMAGE, TEXT)
        for encoder in load_encoders(modality)[0]
    ]


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
