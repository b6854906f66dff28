"""The shop's HTML pages: the catalogue grid (with text search), the product page with similar
products, and search by photo. Views parse, call a selector and render; requests sent by the
search page's script (``X-Requested-With: fetch``) get only the results part."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_safe

from catalog.criteria import ProductCriteria
from catalog.models import Product
from storefront import photo_queries
from storefront.forms import StorefrontFilter, TextSearchForm, listing_products
from storefront.results import results_page
from visualsearch.api.throttling import search_throttle_wait
from visualsearch.cards import hit_cards, product_cards, run_search
from visualsearch.forms import PhotoSearchForm
from visualsearch.search.crop import parse_crop
from visualsearch.search.types import SearchQuery
from visualsearch.selectors import active_spaces

EXPIRED = "This photo search is no longer kept. Please choose the photo again."
FILTER_PARAMETERS = ("category", "brand", "price_min", "price_max", "in_stock")


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
        "page": None,
        "search_error": "",
    }
    if text and (throttled := _throttled(request)):
        return throttled
    if text and filters.is_valid():
        context["page"] = page = results_page(request, query=SearchQuery(text=text), criteria=filters.criteria())
        context["search_error"], context["cards"] = page.search_error, page.cards
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
    hits = [hit for hit in result.hits if hit.product.pk != product.pk and not hit.below_floor] if result else []
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
    """POST validates and keeps the photos, then redirects to ``?query=<id>`` (the results, which
    Back, reload and a shared link show again); GET shows that query's results."""
    if request.method == "POST":
        return _photo_search_post(request)
    data = request.GET
    query = photo_queries.load_photo_query(data.get("query", "")) if data.get("query") else None
    if query is not None and ("remove" in data or "crop_photo" in data):
        return _changed_query(request, query)
    if query is not None and (throttled := _throttled(request)):  # the GET runs the search; POST only keeps
        return throttled
    filters = StorefrontFilter(data if data.get("query") else None, queryset=Product.objects.none())
    context = _page_context(PhotoSearchForm(), filters, query=query)
    kept = data.copy()
    for name in ("remove", "crop_photo", "crop", "shown"):
        kept.pop(name, None)
    context["keep_query"] = kept.urlencode()
    if data.get("query") and query is None:
        context["search_error"] = EXPIRED
    elif query is not None and filters.is_valid():
        images = photo_queries.search_images(query)
        if images is None:
            context["search_error"] = EXPIRED
        else:
            page = results_page(request, query=SearchQuery(images=images), criteria=filters.criteria())
            context.update(page=page, search_error=page.search_error)
    elif query is not None:
        context["errors"] = _form_errors(filters.form)
    return _render_search(request, context)


def _photo_search_post(request: HttpRequest) -> HttpResponse:
    form = PhotoSearchForm(request.POST, request.FILES)
    filters = StorefrontFilter(request.POST, queryset=Product.objects.none())
    if form.is_valid() and filters.is_valid():
        query = photo_queries.save_photo_query([(photo, None) for photo in form.cleaned_data["photos"]])
        return redirect_to_query(query.query_id, request.POST)
    context = _page_context(form, filters, query=None)
    context["errors"] = _form_errors(form, filters.form)
    return _render_search(request, context)


def _changed_query(request: HttpRequest, query: photo_queries.PhotoQuery) -> HttpResponse:
    """A photo removed, or one photo cropped: a new query id, and the same filters and sort."""
    data = request.GET
    try:
        index = int(data.get("remove", data.get("crop_photo", "")))
        if "remove" in data:
            changed = photo_queries.without_photo(query, index)
        else:
            changed = photo_queries.with_crop(query, index, parse_crop(data.get("crop")))
    except (ValueError, IndexError):  # CropInvalid is a ValueError
        changed = query
    if changed is None:
        return redirect("storefront:search")
    return redirect_to_query(changed.query_id, data)


def redirect_to_query(query_id: str, data: QueryDict) -> HttpResponse:
    kept = QueryDict(mutable=True)
    for name in (*FILTER_PARAMETERS, "sort"):
        values = [value for value in data.getlist(name) if value]
        if values:
            kept.setlist(name, values)
    kept["query"] = query_id
    return HttpResponseRedirect(f"{reverse('storefront:search')}?{kept.urlencode()}", status=303)


def _page_context(form: PhotoSearchForm, filters: StorefrontFilter, *, query: Any) -> dict[str, Any]:
    return {
        "form": form,
        "filter_form": filters.form,
        "active_filter_count": filters.active_filter_count,
        "errors": [],
        "page": None,
        "search_error": "",
        "query": query,
        "search_ready": any(space.modality == "image" for space in active_spaces().values()),
        "max_images": settings.SHOPLENS_UI_MAX_QUERY_IMAGES,
        "max_upload_mb": settings.SHOPLENS_MAX_UPLOAD_BYTES // (1024 * 1024),
    }


def _render_search(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    fetch = request.headers.get("X-Requested-With") == "fetch"
    response = render(request, "storefront/_results.html" if fetch else "storefront/search.html", context)
    # The page's script fetches the very URL it then shows: Back must not get the fetched fragment.
    patch_vary_headers(response, ["X-Requested-With"])
    return response


def _throttled(request: HttpRequest) -> HttpResponse | None:
    """The 429 page when this client has searched too often (the API's throttles and rates)."""
    wait = search_throttle_wait(request)
    if wait is None:
        return None
    response = render(request, "429.html", {"retry_after": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response


@require_safe
def query_photo(request: HttpRequest, sha256: str) -> HttpResponse:
    """A photo search's photo, for its thumbnail, as long as the search is kept."""
    data = photo_queries.photo_bytes(sha256)
    if data is None:
        raise Http404("This photo is no longer kept.")
    response = HttpResponse(data, content_type=photo_queries.photo_type(data))
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _form_errors(*forms: Any) -> list[str]:
    """Every message of the forms, for the error summary beside the search form."""
    return [message for form in forms for messages in form.errors.values() for message in messages]
