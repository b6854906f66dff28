"""Writes of search analytics: search events (in batches), result interactions, retention."""

from __future__ import annotations

import base64
import io
import logging
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.dateparse import parse_datetime

from analytics.models import Channel, InteractionType, ResultInteraction, SearchEvent
from visualsearch.search.events import SearchPerformed

logger = logging.getLogger(__name__)

THUMBNAIL_SIDE = 160


class InteractionRejected(ValueError):
    """The interaction does not match the search it names; ``str(exc)`` says why."""


def session_hash(session_key: str) -> str:
    """A salted hash that tells one visitor's searches apart without being the session key."""
    if not session_key:
        return ""
    secret = settings.SHOPLENS_ANALYTICS_SALT or settings.SECRET_KEY
    return salted_hmac("shoplens.analytics.session", session_key, secret=secret, algorithm="sha256").hexdigest()


def event_row(event: SearchPerformed) -> dict[str, Any]:
    """The event as JSON-ready column values (hashing and the thumbnail happen here, off the request path)."""
    results = [[entry.product_id, round(entry.score, 6), entry.match_percent] for entry in event.results]
    first = event.results[0] if event.results else None
    category_id = event.criteria.get("category_id") or (first.category_id if first else None)
    thumbnail = _thumbnail(event.photos[0]) if event.photos and settings.SHOPLENS_ANALYTICS_KEEP_THUMBNAILS else None
    return {
        "search_id": str(event.search_id),
        "created_at": event.performed_at.isoformat(),
        "kind": event.kind,
        "channel": event.channel,
        "text": event.text[:500],
        "photo_sha256s": list(event.photo_sha256s),
        "negative_photo_sha256s": list(event.negative_photo_sha256s),
        "query_product_id": event.product_id,
        "criteria": event.criteria,
        "limit": event.limit,
        "results": results,
        "result_count": len(results),
        "top_score": first.score if first else None,
        "top_match_percent": first.match_percent if first else None,
        "category_id": category_id,
        "encode_ms": event.timings.encode_ms,
        "search_ms": event.timings.search_ms,
        "load_ms": event.timings.load_ms,
        "total_ms": event.timings.total_ms,
        "encoders": list(event.encoders),
        "session_hash": session_hash(event.session_key),
        "thumbnail": base64.b64encode(thumbnail).decode() if thumbnail else None,
    }


def search_events_record(*, rows: Iterable[Mapping[str, Any]]) -> int:
    """Store event rows (from ``event_row``) in one statement; a search id seen before is skipped."""
    events = []
    for row in rows:
        values = dict(row)
        values["search_id"] = uuid.UUID(str(values["search_id"]))
        values["created_at"] = _datetime(values["created_at"])
        values["thumbnail"] = base64.b64decode(values["thumbnail"]) if values.get("thumbnail") else None
        events.append(SearchEvent(**values))
    with transaction.atomic():
        return len(SearchEvent.objects.bulk_create(events, ignore_conflicts=True))


def interaction_record(
    *, search_id: uuid.UUID, product_id: int, position: int, type: str = InteractionType.CLICK, channel: str
) -> ResultInteraction:
    """Record what a shopper did with one result; the product must be the one shown at ``position``."""
    if type not in InteractionType.values:
        raise InteractionRejected(f"type must be one of {', '.join(InteractionType.values)}.")
    if channel not in Channel.values:
        raise InteractionRejected(f"channel must be one of {', '.join(Channel.values)}.")
    event = SearchEvent.objects.filter(pk=search_id).only("pk", "results").first()
    if event is None:
        raise SearchEvent.DoesNotExist(f"No search {search_id} is recorded (it may be older than the retention).")
    ids = event.product_ids
    if not 1 <= position <= len(ids) or ids[position - 1] != product_id:
        raise InteractionRejected(f"Product {product_id} was not shown at position {position} of this search.")
    interaction = ResultInteraction(
        event=event, product_id=product_id, position=position, type=type, channel=channel, created_at=timezone.now()
    )
    interaction.full_clean()
    interaction.save()
    return interaction


def expired_events_delete(*, now: datetime | None = None, days: int | None = None) -> int:
    """Delete events (and their interactions) older than the retention; returns the events deleted."""
    days = int(settings.SHOPLENS_ANALYTICS_RETENTION_DAYS) if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with transaction.atomic():
        old = SearchEvent.objects.filter(created_at__lt=cutoff)
        ResultInteraction.objects.filter(event__in=old.values("pk")).delete()
        deleted, _ = old.delete()
    return deleted


def _datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else parse_datetime(str(value))  # type: ignore[return-value]


def _thumbnail(photo: bytes) -> bytes | None:
    """A small JPEG of the query photo for review; None when it cannot be read."""
    from catalog.imaging import ImageRejected, read_image

    try:
        image = read_image(photo, min_side=THUMBNAIL_SIDE)
    except ImageRejected:
        return None
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()
