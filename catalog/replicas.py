"""Read replicas: which database answers a read-only request or a search.

Searches and the shop's product pages and API read from the hot standbys named in
``DATABASE_REPLICA_URLS`` (round robin), so they scale past one PostgreSQL; writes, the admin and
every other app's tables stay on the primary. A replica that cannot be reached, or that replays
more than ``SHOPLENS_REPLICA_MAX_LAG_SECONDS`` behind, is skipped until its next check.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

PRIMARY = "default"
REPLICATED_APPS = frozenset({"catalog", "visualsearch"})  # the tables a replica serves
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")

# The database of the reads in progress (a request's, chosen once for all its queries, or a
# search's); the router sends the replicated apps' reads there.
_read_database: contextvars.ContextVar[str | None] = contextvars.ContextVar("read_database", default=None)

# pg_last_xact_replay_timestamp() is the commit time of the last replayed transaction: a lag only
# while WAL is waiting to be replayed, not when the primary has simply been idle.
LAG_SQL = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END"
)


@dataclass(frozen=True)
class ReplicaState:
    """The outcome of one check of a replica: ``lag_seconds`` None when it could not be reached."""

    checked_at: float
    lag_seconds: float | None

    @property
    def usable(self) -> bool:
        lag = self.lag_seconds
        return lag is not None and lag <= float(getattr(settings, "SHOPLENS_REPLICA_MAX_LAG_SECONDS", 5.0))


_states: dict[str, ReplicaState] = {}
_turn = itertools.count()
_lock = threading.Lock()


def replica_aliases() -> list[str]:
    return list(getattr(settings, "SHOPLENS_REPLICA_DATABASES", []))  # set by config.replica_settings


def measure_lag(alias: str) -> float | None:
    """Seconds the replica's replay is behind (0 when caught up); None when it does not answer."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(LAG_SQL)
            row = cursor.fetchone()
    except DatabaseError as error:
        logger.warning("Read replica %s is not answering: %s", alias, error)
        connections[alias].close()
        return None
    return None if row is None or row[0] is None else float(row[0])


def state(alias: str) -> ReplicaState:
    """The replica's last check, checked again when older than ``SHOPLENS_REPLICA_CHECK_SECONDS``."""
    now = time.monotonic()
    known = _states.get(alias)
    if known is None or now - known.checked_at >= float(getattr(settings, "SHOPLENS_REPLICA_CHECK_SECONDS", 1.0)):
        known = ReplicaState(checked_at=now, lag_seconds=measure_lag(alias))
        _states[alias] = known
    return known


def mark_down(alias: str) -> None:
    """Skip ``alias`` until its next check (a query on it just failed)."""
    _states[alias] = ReplicaState(checked_at=time.monotonic(), lag_seconds=None)


def read_database() -> str:
    """The next usable replica in turn, or the primary when there is none."""
    aliases = replica_aliases()
    if not aliases:
        return PRIMARY
    with _lock:
        start = next(_turn)
    for offset in range(len(aliases)):
        alias = aliases[(start + offset) % len(aliases)]
        if state(alias).usable:
            return alias
    return PRIMARY


def search_database() -> str:
    """Where a search reads: the request's database when a request chose one, else a replica."""
    return _read_database.get() or read_database()


def request_database() -> str | None:
    """The database the replicated apps' reads go to now; None: the router's default."""
    return _read_database.get()


def current_database() -> str:
    """The database for raw SQL that must read where the ORM reads."""
    return _read_database.get() or PRIMARY


@contextlib.contextmanager
def reading_from(alias: str) -> Iterator[None]:
    """Send the replicated apps' reads inside the block to ``alias``."""
    token = _read_database.set(alias)
    try:
        yield
    finally:
        _read_database.reset(token)


class ReplicaReadsMiddleware:
    """Sends a read-only request's catalogue reads to one replica; the admin and any request
    that may write stay on the primary."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        on_primary = request.method not in SAFE_METHODS or request.path.startswith(_admin_prefix())
        with reading_from(PRIMARY if on_primary else read_database()):
            return self.get_response(request)


def _admin_prefix() -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("admin:index")
    except NoReverseMatch:
        return "/admin/"


def read_with_fallback(read: Callable[[], T]) -> T:
    """``read()`` with its reads on the search database; again on the primary when a replica
    fails during it (down since its last check, or a query cancelled by replay)."""
    alias = search_database()
    if alias == PRIMARY:
        with reading_from(PRIMARY):
            return read()
    try:
        with reading_from(alias):
            return read()
    except (OperationalError, InterfaceError) as error:
        logger.warning("Read replica %s failed (%s); reading from the primary", alias, error)
        mark_down(alias)
        connections[alias].close()
        with reading_from(PRIMARY):
            return read()
