"""System checks: an enabled encoder must be configured (a typo would otherwise turn a signal off
without a word), and a running indexing batch must never be handed out twice."""

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


@checks.register()
def running_tasks_are_not_redelivered(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The broker hands an unacknowledged task out again after the visibility timeout; a task may
    run up to CELERY_TASK_TIME_LIMIT, so a shorter timeout would run one batch twice at once."""
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    visibility = int(options.get("visibility_timeout", 3600))
    limit = int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 0) or 0)
    if limit and visibility <= limit:
        return [
            checks.Error(
                f"CELERY_VISIBILITY_TIMEOUT ({visibility} s) is not longer than CELERY_TASK_TIME_LIMIT ({limit} s): "
                "a batch still running would be handed to a second worker.",
                hint="Raise CELERY_VISIBILITY_TIMEOUT (600 by default) or lower CELERY_TASK_TIME_LIMIT.",
                id="visualsearch.E002",
            )
        ]
    return []
