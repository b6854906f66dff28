"""Search events for analytics tests, written through the same services as the shop's searches."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.utils import timezone

from analytics import services
from analytics.models import SearchEvent
from visualsearch.search.events import ResultEntry, SearchPerformed
from visualsearch.search.types import SearchTimings


def performed(**overrides: Any) -> SearchPerformed:
    values: dict[str, Any] = {
        "search_id": uuid.uuid4(),
        "kind": "text",
        "channel": "page",
        "text": "red boots",
        "photos": (),
        "negative_photos": (),
        "product_id": None,
        "criteria": {},
        "limit": 24,
        "results": (),
        "timings": SearchTimings(encode_ms=5.0, search_ms=10.0, load_ms=5.0, total_ms=20.0),
        "encoders": ("text",),
        "session_key": "",
        "performed_at": timezone.now(),
    }
    values.update(overrides)
    return SearchPerformed(**values)


def hits(*product_ids: int, match: int = 80) -> tuple[ResultEntry, ...]:
    return tuple(
        ResultEntry(position=n, product_id=pid, score=0.9 - n / 100, match_percent=match - n, category_id=None)
        for n, pid in enumerate(product_ids, start=1)
    )


def record(**overrides: Any) -> SearchEvent:
    event = performed(**overrides)
    services.search_events_record(rows=[services.event_row(event)])
    return SearchEvent.objects.get(pk=event.search_id)


def finish_response() -> None:
    """What a server does once a response is sent, as Django's test client does it (keeping the test's connection)."""
    request_finished.disconnect(close_old_connections)
    try:
        request_finished.send(sender=__name__)
    finally:
        request_finished.connect(close_old_connections)


def days_ago(days: float, *, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=days)


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(user)
    return client
