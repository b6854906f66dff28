"""Retention: the beat task deletes events (and their clicks) older than the setting."""

from __future__ import annotations

import pytest
from django.conf import settings

from analytics import services
from analytics.models import ResultInteraction, SearchEvent
from analytics.tasks import delete_expired_events
from tests.analytics.conftest import days_ago, hits, record
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_events_older_than_the_retention_are_deleted_with_their_clicks(settings):
    settings.SHOPLENS_ANALYTICS_RETENTION_DAYS = 30
    product = ProductFactory.create()
    old = record(results=hits(product.pk), performed_at=days_ago(31))
    services.interaction_record(search_id=old.pk, product_id=product.pk, position=1, channel="page")
    kept = record(performed_at=days_ago(29))

    assert delete_expired_events.apply().get() == 1

    assert list(SearchEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not ResultInteraction.objects.exists()


def test_the_retention_task_is_scheduled_daily_with_a_90_day_default():
    from config.celery import app

    entry = app.conf.beat_schedule["analytics-retention"]

    assert entry["task"] == "analytics.tasks.delete_expired_events"
    assert entry["schedule"] == 24 * 60 * 60
    assert settings.SHOPLENS_ANALYTICS_RETENTION_DAYS == 90
