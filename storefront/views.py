"""The shop's HTML pages: the catalogue grid (with text search), the product page with similar
products, and search by photo. Views parse, call a selector and render; requests sent by the
search page's script (``X-Requested-With: fetch``) get only the results part."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods, require_safe

from catalog.criteria import ProductCriteria
from catalog.models import Product
from storefront.forms import StorefrontFilter, TextSearchForm, listing_products
from visualsearch.cards import hit_cards, product_cards, run_search
from visualsearch.forms import PhotoSearchForm
from visualsearch.search.types import SearchQuery, SearchResult
from visualsearch.selectors import active_spaces


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
            query=SearchQuery(text=text),
            criteria=filters.criteria(),
            limit=settings.SHOPLENS_UI_SEARCH_LIMIT,
            request=request,
        )
        context["cards"] = hit_cards(result.hits, search_id=result.search_id) if result else []
    else:
        page_obj = Paginator(filters.qs, settings.SHOPLENS_UI_PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(page_obj=page_obj, cards=product_cards(page_obj.object_list))
    return render(request, "storefront/catalogue.html", context)


@require_safe
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    product = get_object_or_404(listing_products(), slug=slug)
    result, search_error = run_search(
        query=SearchQuery(product_id=product.pk),
        criteria=ProductCriteria(),
        limit=settings.SHOPLENS_UI_SIMILAR_LIMIT,
        request=request,
    )
    hits = [hit for hit in result.hits if hit.product.pk != product.pk] if result else []
    context = {
        "product": product,
        "images": list(product.images.all()),
        "attributes": sorted((str(k), v) for k, v in product.attributes.items())
        if isinstance(product.attributes, dict)
        else [],
        "cards": hit_cards(hits, search_id=result.search_id if result else None),
        "search_error": search_error,
    }
    return render(request, "storefront/product_detail.html", context)


@require_http_methods(["GET", "POST"])
def photo_search(request: HttpRequest) -> HttpResponse:
    result: SearchResult | None = None
    search_error = ""
    posted = request.method == "POST"
    form = PhotoSearchForm(request.POST if posted else None, request.FILES if posted else None)
    filters = StorefrontFilter(request.POST if posted else None, queryset=Product.objects.none())
    if posted and form.is_valid() and filters.is_valid():
        result, search_error = run_search(
            query=form.search_query(),
            criteria=filters.criteria(),
            limit=settings.SHOPLENS_UI_SEARCH_LIMIT,
            request=request,
        )
    context = {
        "form": form,
        "filter_form": filters.form,
        "active_filter_count": filters.active_filter_count,
        "errors": _form_errors(form, filters.form) if posted else [],
        "result": result,
        "cards": hit_cards(result.hits, search_id=result.search_id) if result else [],
        "photo_count": len(form.cleaned_data.get("photos", ())) if result else 0,
        "search_error": search_error,
        "active_encoders": sorted({space.encoder for space in active_spaces().values() if space.modality == "image"}),
        "max_images": settings.SHOPLENS_UI_MAX_QUERY_IMAGES,
        "max_upload_mb": settings.SHOPLENS_MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    fetch = request.headers.get("X-Requested-With") == "fetch"
    return render(request, "storefront/_results.html" if fetch else "storefront/search.html", context)


def _form_errors(*forms: Any) -> list[str]:
    """Every message of the forms, for the error summary beside the search form."""
    return [message for form in forms for messages in form.errors.values() for message in messages]
