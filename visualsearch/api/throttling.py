"""A scoped throttle for search, on top of the global anon/user ones (searches cost a model run).

The HTML search pages use the same throttles (``search_throttle_wait``), so a page and the API
share one budget per client.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from catalog.api.throttling import AnonRateThrottle, FailOpenMixin, UserRateThrottle


class SearchRateThrottle(FailOpenMixin, SimpleRateThrottle):
    """``SHOPLENS_SEARCH_THROTTLE_RATE`` searches per user, or per IP address for anonymous clients."""

    scope = "search"

    def get_rate(self) -> str | None:
        return settings.SHOPLENS_SEARCH_THROTTLE_RATE

    def get_cache_key(self, request: Request, view: APIView) -> str:
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


SEARCH_THROTTLES: tuple[type[BaseThrottle], ...] = (AnonRateThrottle, UserRateThrottle, SearchRateThrottle)


def search_throttle_wait(request: HttpRequest) -> int | None:
    """Seconds a page's search must wait (the API's throttles, same client identity), else None."""
    waits = []
    for throttle_class in SEARCH_THROTTLES:
        throttle = throttle_class()
        if not throttle.allow_request(request, None):  # type: ignore[arg-type]
            waits.append(throttle.wait() or 1)
    return max(1, math.ceil(max(waits))) if waits else None
