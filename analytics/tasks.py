"""Celery task of search analytics (default queue): deleting expired events."""

from __future__ import annotations

from celery import shared_task

from analytics import services


@shared_task
def delete_expired_events() -> int:
    """Run by Celery beat: events older than ``SHOPLENS_ANALYTICS_RETENTION_DAYS`` go."""
    return services.expired_events_delete()
