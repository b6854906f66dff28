"""Probes and metrics: /healthz/ (liveness: the process answers), /readyz/ (dependencies),
/metrics (Prometheus, for the token or the addresses in ``SHOPLENS_METRICS_*``)."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import sys

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from operations.metrics import render_metrics
from operations.readiness import readiness
from operations.unavailable import DATABASE_ERRORS, unavailable_response

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    state = readiness()
    return JsonResponse(state.as_json(), status=200 if state.ready else 503)


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)


def metrics_allowed(request: HttpRequest) -> bool:
    """The bearer token of ``SHOPLENS_METRICS_TOKEN``, or a peer in ``SHOPLENS_METRICS_ALLOWED_IPS``."""
    token = str(settings.SHOPLENS_METRICS_TOKEN)
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and offered and hmac.compare_digest(offered.encode(), token.encode()):
        return True
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    # The peer of the socket, never X-Forwarded-For: behind the gateway that is the gateway itself,
    # so only scrapers that reach gunicorn directly (or the gateway's host) can be allowed by address.
    return any(peer in ipaddress.ip_network(net, strict=False) for net in settings.SHOPLENS_METRICS_ALLOWED_IPS)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a lost database is a 503; anything else a short 500 (JSON under /api/)."""
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_ERRORS):
        return unavailable_response(request)
    if request.path.startswith("/api/"):
        message = "Something went wrong on our side; it has been logged."
        return JsonResponse({"error": {"code": "server_error", "message": message, "fields": {}}}, status=500)
    return HttpResponse(render_to_string("500.html"), status=500)
