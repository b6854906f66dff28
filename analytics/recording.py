"""Recording searches off the request path.

The ``search_performed`` receiver only appends the event to a per-process buffer (microseconds);
``request_finished``, which Django sends once the response has been handed to the server, turns
the buffer into rows and writes them in one statement. Analytics failing never breaks a search.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from django.conf import settings
from django.core.signals import request_finished

from analytics import services
from visualsearch.search.events import SearchPerformed, search_performed

logger = logging.getLogger(__name__)

MAX_PENDING = 200  # written at once when this many wait (outside requests nothing else flushes)

_pending: deque[SearchPerformed] = deque()


def connect() -> None:
    search_performed.connect(keep_event, dispatch_uid="analytics.keep_event")
    request_finished.connect(write_after_response, dispatch_uid="analytics.write_after_response")


def keep_event(sender: Any, event: SearchPerformed, **kwargs: Any) -> None:
    if not settings.SHOPLENS_ANALYTICS_ENABLED:
        return
    _pending.append(event)
    if len(_pending) >= MAX_PENDING:
        flush()


def write_after_response(sender: Any, **kwargs: Any) -> None:
    if _pending:
        flush()


def flush() -> int:
    """Write every buffered event; returns how many were handed on."""
    events: list[SearchPerformed] = []
    while True:
        try:
            events.append(_pending.popleft())
        except IndexError:
            break
    if not events:
        return 0
    try:
        services.search_events_record(rows=[services.event_row(event) for event in events])
    except Exception:  # the shopper has the answer already; analytics must not fail the request
        logger.exception("Could not record %d search events", len(events))
        return 0
    return len(events)


def pending() -> int:
    return len(_pending)


def discard_pending() -> None:
    """Forget buffered events unwritten (the benchmark measures building them alone)."""
    _pending.clear()
