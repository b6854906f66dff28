"""Sorting and paging of search results, for the pages and the API alike.

Sorting by price or rating re-orders the matches only; hits below the relevance floor stay after
them in relevance order, so "cheapest first" never puts an unrelated product on top.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from visualsearch.search.types import SearchHit, SearchResult

RELEVANCE = "relevance"
SORTS: dict[str, str] = {
    RELEVANCE: "Best match",
    "price": "Price: low to high",
    "-price": "Price: high to low",
    "-rating": "Best rated",
}
_UNRATED = Decimal("-1")


def _key(sort: str) -> Callable[[SearchHit], Any]:
    if sort in ("price", "-price"):
        return lambda hit: (hit.product.price, hit.product.name, hit.product.pk)
    return lambda hit: (hit.product.rating if hit.product.rating is not None else _UNRATED, hit.product.pk)


def sorted_hits(hits: Sequence[SearchHit], sort: str = RELEVANCE) -> list[SearchHit]:
    """``hits`` (in relevance order) in the chosen order; raises ``ValueError`` for an unknown sort."""
    if sort not in SORTS:
        raise ValueError(f"Sort by one of: {', '.join(SORTS)}.")
    if sort == RELEVANCE:
        return list(hits)
    matches = [hit for hit in hits if not hit.below_floor]
    rest = [hit for hit in hits if hit.below_floor]
    return sorted(matches, key=_key(sort), reverse=sort.startswith("-")) + rest


def result_page(result: SearchResult, *, sort: str = RELEVANCE, offset: int = 0, limit: int) -> SearchResult:
    """``limit`` hits from ``offset`` of ``result`` (searched with a limit of at least ``offset + limit``)."""
    return dataclasses.replace(result, hits=sorted_hits(result.hits, sort)[offset : offset + limit])
