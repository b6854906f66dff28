"""Operations: readiness, metrics, request ids and the answer given while the database is down.

Nothing imports this app except ``config``; it listens to catalog and visualsearch, never the reverse.
"""

from __future__ import annotations

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from operations import metrics, request_ids

        metrics.connect_receivers()
        request_ids.connect_celery_signals()
