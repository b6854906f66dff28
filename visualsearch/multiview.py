"""Multi-view search quality: find a product from another photo of it than the one indexed.

For every product with several photos, its first photo stands for it in the catalogue and each
other photo is a query. Scored on the vectors the active embedding space stores for one encoder
(the query photo must not be findable as itself, which the shop's own index cannot leave out), so
it measures the encoder, not the weights of a hybrid search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from visualsearch.evaluation import SPLITS, LabelledQuery, Metrics, QueryOutcome, in_split
from visualsearch.models import EmbeddingSpace, ImageEmbedding, SpaceStatus

IMAGE = "image"


class MultiViewError(ValueError):
    """Nothing to measure (no active space, no product with two photos); ``str(exc)`` says why."""


@dataclass(frozen=True)
class ViewPhoto:
    """One stored photo vector and what the measure needs to know of its product."""

    sku: str
    vector: np.ndarray
    variant_key: tuple[object, ...] | None = None  # equal for colour variants of one product; None: none


@dataclass(frozen=True)
class MultiViewReport:
    metrics: Metrics
    products: int  # in the catalogue side (one photo each)
    variant_first: float | None  # share of variant queries whose own variant beats its siblings
    variant_queries: int
    split: str = "all"
    space: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "space": self.space,
            "split": self.split,
            "products": self.products,
            **self.metrics.as_dict(),
            "variant_first": self.variant_first,
            "variant_queries": self.variant_queries,
        }


def multi_view_report(photos: Sequence[ViewPhoto], *, split: str = "all") -> MultiViewReport:
    """``photos`` in catalogue order (first photo of a product first). Queries are the later
    photos of products in ``split``; every product's first photo is on the catalogue side."""
    gallery: dict[str, ViewPhoto] = {}
    queries: list[ViewPhoto] = []
    for photo in photos:
        if photo.sku not in gallery:
            gallery[photo.sku] = photo
        elif in_split(photo.sku, split):
            queries.append(photo)
    if not queries:
        raise MultiViewError(
            "No product has a second photo to query with" + (f" in split {split!r}." if split != "all" else ".")
        )
    skus = list(gallery)
    index = {sku: position for position, sku in enumerate(skus)}
    scores = np.stack([q.vector for q in queries]) @ np.stack([gallery[s].vector for s in skus]).T
    own = scores[np.arange(len(queries)), [index[q.sku] for q in queries]]
    ranks = (scores > own[:, None]).sum(axis=1) + 1
    outcomes = [
        QueryOutcome(LabelledQuery(q.sku, q.sku, IMAGE), int(rank) if rank <= 50 else None)
        for q, rank in zip(queries, ranks, strict=True)
    ]
    variant_wins: list[bool] = []
    for row, query in zip(scores, queries, strict=True):
        siblings = [index[s] for s in skus if s != query.sku and _variants(gallery[s], query)]
        if siblings:
            variant_wins.append(bool(row[index[query.sku]] > row[siblings].max()))
    return MultiViewReport(
        metrics=Metrics.of(outcomes),
        products=len(skus),
        variant_first=round(sum(variant_wins) / len(variant_wins), 4) if variant_wins else None,
        variant_queries=len(variant_wins),
        split=split,
    )


def evaluate_multi_view(
    *, encoder: str = "visual", split: str = "all", variant_attribute: str = "colour"
) -> MultiViewReport:
    """The multi-view measure on the active image space of ``encoder``. Products that differ only
    in ``variant_attribute`` (same category, same other attributes) are variants of each other."""
    if split not in SPLITS:
        raise MultiViewError(f"split must be one of {', '.join(SPLITS)}")
    space = EmbeddingSpace.objects.filter(encoder=encoder, modality=IMAGE, status=SpaceStatus.ACTIVE).first()
    if space is None:
        raise MultiViewError(f"The {encoder!r} encoder has no active image space yet; index the catalogue first.")
    rows = (
        ImageEmbedding.objects.filter(space=space)
        .order_by("product_id", "image__position", "image_id")
        .values_list("product__sku", "product__category_id", "product__attributes", "content_sha256", "vector")
    )
    photos, seen = [], set()
    for sku, category, attributes, sha, vector in rows.iterator(chunk_size=2000):
        if (sku, sha) in seen:  # a byte-identical copy is not another view
            continue
        seen.add((sku, sha))
        photos.append(
            ViewPhoto(sku, np.asarray(vector, dtype=np.float32), _variant_key(category, attributes, variant_attribute))
        )
    report = multi_view_report(photos, split=split)
    return MultiViewReport(**{**report.__dict__, "space": str(space.model_version)})


def _variant_key(category: int | None, attributes: object, attribute: str) -> tuple[object, ...] | None:
    if not isinstance(attributes, dict) or attribute not in attributes:
        return None
    others = tuple(sorted((str(k), str(v)) for k, v in attributes.items() if k != attribute))
    return (category, others)


def _variants(candidate: ViewPhoto, query: ViewPhoto) -> bool:
    return query.variant_key is not None and candidate.variant_key == query.variant_key
