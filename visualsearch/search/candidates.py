"""Which photo vectors a search takes from each index, and how many (``visualsearch.selectors``)."""

from __future__ import annotations

import math
from collections.abc import Mapping

from django.conf import settings

from visualsearch.models import EmbeddingSpace
from visualsearch.search import sql
from visualsearch.search.filtering import ProductFilterSql
from visualsearch.search.types import SIGNAL_SPACES


def nearest(
    cursor,
    signals: list[sql.Signal],
    product_filter: ProductFilterSql,
    *,
    wanted: int,
    k: int,
    exact: bool,
    prelude: tuple[str, list] | None,
) -> dict[str, list[tuple[int, int | None, float]]]:
    """Nearest products per signal from ``k`` photos each; asks the index for more photos where
    too few products came back."""
    found = sql.nearest_products(cursor, signals, product_filter, k=k, exact=exact, prelude=prelude)
    for _ in range(2):
        short = [s for s in signals if len(found[s.name][0]) < wanted and found[s.name][1] >= k]
        if not short:
            break
        k *= 4
        found |= sql.nearest_products(cursor, short, product_filter, k=k, exact=exact)
    return {
        name: [(product_id, image_id, 1.0 - distance) for product_id, image_id, distance in rows]
        for name, (rows, _) in found.items()
    }


def walking(signals: list[sql.Signal]) -> list[sql.Signal]:
    """The signals whose HNSW index finds the candidates: all but those of
    ``SHOPLENS_SEARCH_RESCORED_SIGNALS``, which are scored on the others' candidates only, unless
    no other signal is left. One graph walk per photo query instead of one per signal. (An exact
    scan, bounded by the filter, is done for every signal: it costs little and misses nothing.)"""
    rescored = set(settings.SHOPLENS_SEARCH_RESCORED_SIGNALS)
    return [signal for signal in signals if signal.name not in rescored] or signals


# pgvector's largest hnsw.ef_search; the first scan asks for no more photos than one walk can
# return (a shop with many photos a product asks again, as before, when that is short).
MAX_EF_SEARCH = 1000


def first_k(wanted: int, *, photos_per_product: float = 1.0) -> int:
    """Photo vectors to ask each index for: enough for ``wanted`` products twice over at the
    catalogue's photos per product (a shopper's photo is near every photo of its product), so
    that one statement usually suffices."""
    scaled = min(MAX_EF_SEARCH, math.ceil(2 * wanted * photos_per_product))
    return max(int(settings.SHOPLENS_SEARCH_CANDIDATES), 2 * wanted, scaled)


def ef_search(k: int) -> int:
    """``hnsw.ef_search`` for a walk asked for ``k`` vectors, within pgvector's bounds."""
    return min(MAX_EF_SEARCH, max(int(settings.SHOPLENS_SEARCH_EF_SEARCH), k))


def photos_per_product(spaces: Mapping[tuple[str, str], EmbeddingSpace], signals: list[sql.Signal]) -> float:
    """The catalogue's photos per product when a photo space is searched (``active_spaces``), else 1."""
    return max(
        (
            float(getattr(spaces[SIGNAL_SPACES[signal.name]], "photos_per_product", None) or 1.0)
            for signal in signals
            if signal.modality == "image"
        ),
        default=1.0,
    )
