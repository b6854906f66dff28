"""Storefront pages: the catalogue grid and the product page. Reads go through QuerySet
methods and the search selector; the views only parse, call and render."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from catalog.forms import StorefrontFilter, TextSearchForm, listing_products
from visualsearch.selectors import SearchFilters, SearchQuery
from visualsearch.views import hit_cards, product_cards, run_search


@require_safe
def catalogue(request: HttpRequest) -> HttpResponse:
    """The product grid; with a text query the grid holds the selector's best matches instead."""
    filters = StorefrontFilter(request.GET, queryset=listing_products())
    text = TextSearchForm(request.GET).text
    context: dict[str, object] = {
        "filter_form": filters.form,
        "active_filter_count": filters.active_filter_count,
        "text": text,
        "page_obj": None,
        "search_error": "",
    }
    if text and filters.is_valid():
        result, context["search_error"] = run_search(
            query=SearchQuery(text=text), filters=filters.search_filters(), limit=settings.SHOPLENS_UI_SEARCH_LIMIT
        )
        context["cards"] = hit_cards(result.hits) if result else []
    else:
        page_obj = Paginator(filters.qs, settings.SHOPLENS_UI_PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(page_obj=page_obj, cards=product_cards(page_obj.object_list))
    return render(request, "catalog/catalogue.html", context)


@require_safe
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    product = get_object_or_404(listing_products(), slug=slug)
    result, search_error = run_search(
        query=SearchQuery(product_id=product.pk), filters=SearchFilters(), limit=settings.SHOPLENS_UI_SIMILAR_LIMIT
    )
    hits = [hit for hit in result.hits if hit.product.pk != product.pk] if result else []
    context = {
        "product": product,
        "images": list(product.images.all()),
        "attributes": sorted((str(k), v) for k, v in product.attributes.items())
        if isinstance(product.attributes, dict)
        else [],
        "cards": hit_cards(hits),
        "search_error": search_error,
    }
    return render(request, "catalog/product_detail.html", context)
