"""System checks: an enabled encoder must be configured (a typo would otherwise turn a signal off
without a word)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register()
def enabled_encoders_are_configured(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    configured = getattr(settings, "SHOPLENS_ENCODERS", {})
    return [
        checks.Error(
            f"SHOPLENS_ENABLED_ENCODERS names {name!r}, which SHOPLENS_ENCODERS does not configure.",
            hint=f"Use some of {sorted(configured)}.",
            id="visualsearch.E001",
        )
        for name in settings.SHOPLENS_ENABLED_ENCODERS
        if name not in configured
    ]
