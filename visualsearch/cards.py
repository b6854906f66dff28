"""What an HTML page (the storefront's or the admin's) shows of a search: a card per hit with
its match in words, or a message a shopper understands when search cannot run."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from catalog.criteria import ProductCriteria
from catalog.models import Product, ProductImage
from visualsearch.search.events import PAGE, announce_search, click_url
from visualsearch.search.types import SearchHit, SearchQuery, SearchResult, SearchUnavailable
from visualsearch.selectors import search_products

if TYPE_CHECKING:
    from django.http import HttpRequest

logger = logging.getLogger(__name__)

SEARCH_UNAVAILABLE = "Search by photo is not available right now. Please try again in a few minutes."
# (lowest match percent, css modifier, words for it): colour is never the only cue.
CONFIDENCE_LEVELS = ((80, "high", "strong"), (50, "medium", "good"), (0, "low", "weak"))


@dataclass(frozen=True)
class ResultCard:
    """What a product card shows: the product, the photo to show, and the match when searched."""

    product: Product
    image: ProductImage | None
    match_percent: int | None = None
    confidence: str = ""
    confidence_label: str = ""
    href: str = ""  # a search hit's link (through the click recorder, see search.events.click_url)

    @property
    def url(self) -> str:
        return self.href or self.product.get_absolute_url()


def product_cards(products: Iterable[Product]) -> list[ResultCard]:
    """Cards for listed products (photos prefetched by ``with_listing_data``)."""
    return [ResultCard(product=product, image=next(iter(product.images.all()), None)) for product in products]


def hit_cards(
    hits: Iterable[SearchHit], *, search_id: uuid.UUID | None = None, first_position: int = 1
) -> list[ResultCard]:
    """Cards for search hits, showing the catalogue photo that matched; with the ``search_id`` of
    a shopper's search each links through the click recorder with its position on the page."""
    cards = []
    for position, hit in enumerate(hits, start=first_position):
        _, confidence, label = next(level for level in CONFIDENCE_LEVELS if hit.match_percent >= level[0])
        image = hit.matched_image or next(iter(hit.product.images.all()), None)
        href = click_url(search_id, position, hit.product) if search_id else ""
        cards.append(ResultCard(hit.product, image, hit.match_percent, confidence, label, href))
    return cards


def run_search(
    *, query: SearchQuery, criteria: ProductCriteria, limit: int, request: HttpRequest | None = None
) -> tuple[SearchResult | None, str]:
    """The selector's result, or ``SEARCH_UNAVAILABLE`` when no encoder can answer (the state the
    API answers with 503). With a shopper's ``request`` the search is announced
    (``search_performed``); the admin's searches are not."""
    try:
        result = search_products(query=query, criteria=criteria, limit=limit)
    except SearchUnavailable:
        logger.warning("Search unavailable", exc_info=True)
        return None, SEARCH_UNAVAILABLE
    if request is not None:
        announce_search(request=request, channel=PAGE, query=query, criteria=criteria, limit=limit, result=result)
    return result, ""
