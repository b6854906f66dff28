"""The search-by-photo page. The view parses the form, calls the search selector and renders;
requests sent by the page's script (``X-Requested-With: fetch``) get only the results part."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from catalog.forms import StorefrontFilter
from catalog.models import Product, ProductImage
from visualsearch.encoders.base import EncoderCapabilityError, EncoderUnavailable
from visualsearch.forms import PhotoSearchForm
from visualsearch.selectors import (
    SearchFilters,
    SearchHit,
    SearchQuery,
    SearchResult,
    active_spaces,
    search_products,
)

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


def product_cards(products: Iterable[Product]) -> list[ResultCard]:
    """Cards for listed products (photos prefetched by ``with_listing_data``)."""
    return [ResultCard(product=product, image=next(iter(product.images.all()), None)) for product in products]


def hit_cards(hits: Iterable[SearchHit]) -> list[ResultCard]:
    """Cards for search hits, showing the catalogue photo that matched."""
    cards = []
    for hit in hits:
        _, confidence, label = next(level for level in CONFIDENCE_LEVELS if hit.match_percent >= level[0])
        image = hit.matched_image or next(iter(hit.product.images.all()), None)
        cards.append(ResultCard(hit.product, image, hit.match_percent, confidence, label))
    return cards


def run_search(*, query: SearchQuery, filters: SearchFilters, limit: int) -> tuple[SearchResult | None, str]:
    """The selector's result, or a message a shopper understands when search cannot run."""
    try:
        return search_products(query=query, filters=filters, limit=limit), ""
    except (EncoderUnavailable, EncoderCapabilityError):
        logger.exception("search unavailable")
        return None, SEARCH_UNAVAILABLE


def is_fetch(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def form_errors(*forms: Any) -> list[str]:
    """Every message of the forms, for the error summary beside the search form."""
    return [message for form in forms for messages in form.errors.values() for message in messages]


@require_http_methods(["GET", "POST"])
def photo_search(request: HttpRequest) -> HttpResponse:
    result: SearchResult | None = None
    search_error = ""
    posted = request.method == "POST"
    form = PhotoSearchForm(request.POST if posted else None, request.FILES if posted else None)
    filters = StorefrontFilter(request.POST if posted else None, queryset=Product.objects.none())
    if posted and form.is_valid() and filters.is_valid():
        result, search_error = run_search(
            query=form.search_query(), filters=filters.search_filters(), limit=settings.SHOPLENS_UI_SEARCH_LIMIT
        )
    context = {
        "form": form,
        "filter_form": filters.form,
        "active_filter_count": filters.active_filter_count,
        "errors": form_errors(form, filters.form) if posted else [],
        "result": result,
        "cards": hit_cards(result.hits) if result else [],
        "photo_count": len(form.cleaned_data.get("photos", ())) if result else 0,
        "search_error": search_error,
        "active_encoders": sorted({space.encoder for space in active_spaces().values() if space.modality == "image"}),
        "max_images": settings.SHOPLENS_UI_MAX_QUERY_IMAGES,
        "max_upload_mb": settings.SHOPLENS_MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    template = "visualsearch/_results.html" if is_fetch(request) else "visualsearch/search.html"
    return render(request, template, context)
