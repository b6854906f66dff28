"""``search_performed``: the pages and the API announce every search they answered.

Search knows nothing of who listens (search analytics does); a listener gets one
``SearchPerformed`` with everything the search decided, as plain values. Listeners run on the
request path, so they only keep the event and do their work after the response. Result links
on the pages go through the URL named ``search-click`` when a listener serves one (``click_url``),
so a click is tied to its search and position without JavaScript.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from catalog.criteria import ProductCriteria
from visualsearch.search.types import SearchQuery, SearchResult, SearchTimings

if TYPE_CHECKING:
    from django.http import HttpRequest
    from rest_framework.request import Request

    from catalog.models import Product

__all__ = ["API", "PAGE", "ResultEntry", "SearchPerformed", "SearchTimings", "announce_search", "search_performed"]

PAGE, API = "page", "api"
CLICK_URL_NAME = "search-click"  # args: search_id, position (1-based), product id

search_performed = Signal()  # kwargs: event=SearchPerformed


@dataclasses.dataclass(frozen=True)
class ResultEntry:
    """One hit as the shopper saw it, at ``position`` (1-based)."""

    position: int
    product_id: int
    score: float
    match_percent: int
    category_id: int | None = None


@dataclasses.dataclass(frozen=True)
class SearchPerformed:
    """A search the shop answered. Photos are the uploaded bytes (already in memory); hashing them
    waits until a listener asks for ``photo_sha256s``, after the response."""

    search_id: uuid.UUID
    kind: str  # image, text, image_text or product
    channel: str  # PAGE or API
    text: str
    photos: tuple[bytes, ...]
    negative_photos: tuple[bytes, ...]
    product_id: int | None  # the product of a "similar products" search
    criteria: dict[str, Any]  # the filters, JSON-ready
    limit: int
    results: tuple[ResultEntry, ...]
    timings: SearchTimings
    encoders: tuple[str, ...]
    session_key: str  # the visitor's existing Django session key, or ""; never stored as such
    performed_at: datetime

    @cached_property
    def photo_sha256s(self) -> tuple[str, ...]:
        return tuple(hashlib.sha256(photo).hexdigest() for photo in self.photos)

    @cached_property
    def negative_photo_sha256s(self) -> tuple[str, ...]:
        return tuple(hashlib.sha256(photo).hexdigest() for photo in self.negative_photos)


def announce_search(
    *,
    request: HttpRequest | Request | None,
    channel: str,
    query: SearchQuery,
    criteria: ProductCriteria,
    limit: int,
    result: SearchResult,
) -> SearchPerformed | None:
    """Tell the listeners about a search that was answered (``request``: the shopper's, for the
    session key); does nothing when nobody listens."""
    if not search_performed.has_listeners():
        return None
    session = getattr(request, "session", None)
    event = SearchPerformed(
        search_id=result.search_id,
        kind=result.kind,
        channel=channel,
        text=query.text.strip(),
        photos=tuple(query.images),
        negative_photos=tuple(query.negative_images),
        product_id=query.product_id,
        criteria=criteria_values(criteria),
        limit=limit,
        results=tuple(
            ResultEntry(
                position=position,
                product_id=hit.product.pk,
                score=float(hit.score),
                match_percent=int(hit.match_percent),
                category_id=hit.product.category_id,
            )
            for position, hit in enumerate(result.hits, start=1)
        ),
        timings=result.timings,
        encoders=tuple(result.encoders),
        session_key=(session.session_key or "") if session is not None else "",
        performed_at=timezone.now(),
    )
    search_performed.send(sender=__name__, event=event)
    return event


def criteria_values(criteria: ProductCriteria) -> dict[str, Any]:
    """The filters as JSON values, leaving out the ones at their defaults."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(criteria):
        value = getattr(criteria, field.name)
        if value in (None, (), False) or value == field.default:
            continue
        values[field.name] = (
            str(value) if isinstance(value, Decimal) else list(value) if isinstance(value, tuple) else value
        )
    return values


def click_url(search_id: uuid.UUID | None, position: int, product: Product) -> str:
    """The link of a result: through the click recorder when one is installed, else the product page."""
    if search_id is not None:
        try:
            return reverse(CLICK_URL_NAME, args=[search_id, position, product.pk])
        except NoReverseMatch:
            pass
    return product.get_absolute_url()
