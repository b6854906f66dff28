"""DRF's rate throttles, made to fail open: when the cache (Redis/Valkey) is down, requests are let
through with a logged warning instead of answering 500. Reads must not depend on the cache."""

from __future__ import annotations

import logging
import time
from typing import Any

from rest_framework import throttling

logger = logging.getLogger(__name__)
_WARN_EVERY_S = 30.0
_last_warning = 0.0


class FailOpenMixin:
    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return bool(super().allow_request(request, view))  # type: ignore[misc]
        except Exception as exc:  # the cache backend's own errors (ConnectionError, TimeoutError, ...)
            _warn(exc)
            return True


def _warn(exc: Exception) -> None:
    global _last_warning
    if time.monotonic() - _last_warning >= _WARN_EVERY_S:
        _last_warning = time.monotonic()
        logger.warning("Throttle cache unavailable, requests are not rate-limited: %s", exc)


class AnonRateThrottle(FailOpenMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(FailOpenMixin, throttling.UserRateThrottle):
    pass
