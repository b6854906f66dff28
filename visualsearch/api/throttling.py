"""A scoped throttle for search, on top of the global anon/user ones (searches cost a model run)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView


class SearchRateThrottle(SimpleRateThrottle):
    """``SHOPLENS_SEARCH_THROTTLE_RATE`` searches per user, or per IP address for anonymous clients."""

    scope = "search"

    def get_rate(self) -> str | None:
        return settings.SHOPLENS_SEARCH_THROTTLE_RATE

    def get_cache_key(self, request: Request, view: APIView) -> str:
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
