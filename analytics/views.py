"""Pages of search analytics: the click redirect behind every result link, and the staff dashboard."""

from __future__ import annotations

import logging
import uuid

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from analytics import dashboard, services
from analytics.models import Channel, SearchEvent
from catalog.models import Product

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def result_click(request: HttpRequest, search_id: uuid.UUID, position: int, product_id: int) -> HttpResponse:
    """Record the click, then go to the product; a link that cannot be recorded still leads there."""
    product = get_object_or_404(Product.objects.active(), pk=product_id)
    try:
        services.interaction_record(search_id=search_id, product_id=product_id, position=position, channel=Channel.PAGE)
    except (SearchEvent.DoesNotExist, services.InteractionRejected) as exc:
        logger.info("Click not recorded: %s", exc)
    return HttpResponseRedirect(product.get_absolute_url())


@staff_member_required
@require_safe
def search_dashboard(request: HttpRequest) -> HttpResponse:
    days = dashboard.days_from(request.GET.get("days"))
    return render(request, "analytics/dashboard.html", dashboard.context(days=days))


@staff_member_required
@require_safe
def query_thumbnail(request: HttpRequest, search_id: uuid.UUID) -> HttpResponse:
    thumbnail = SearchEvent.objects.filter(pk=search_id).values_list("thumbnail", flat=True).first()
    if not thumbnail:
        raise Http404("No thumbnail kept for this search.")
    response = HttpResponse(bytes(thumbnail), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response
