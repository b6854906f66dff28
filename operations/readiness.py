"""Readiness: can this web process serve? PostgreSQL answers, the broker answers, a worker is
alive to index, and no migration is pending. Each check is bounded by a short timeout."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import redis
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_S = 1.0
WORKER_PING_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)

    def as_json(self) -> dict[str, object]:
        return {
            "status": "ok" if self.ready else "unavailable",
            "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in self.checks},
            "down": [asdict(check) for check in self.checks if not check.ok],
        }


def check_database() -> Check:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure means not ready; the reason goes into the answer
        return Check("database", False, _reason(exc))
    return Check("database", True)


def check_migrations() -> Check:
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return Check("migrations", False, _reason(exc))
    if pending:
        names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in pending[:5])
        return Check("migrations", False, f"{len(pending)} pending: {names}")
    return Check("migrations", True)


def check_broker() -> Check:
    try:
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_timeout=BROKER_TIMEOUT_S, socket_connect_timeout=BROKER_TIMEOUT_S
        )
        client.ping()
        client.close()
    except Exception as exc:
        return Check("broker", False, _reason(exc))
    return Check("broker", True)


def check_worker() -> Check:
    """At least one Celery worker answers an inspect ping within a second."""
    if not settings.SHOPLENS_READYZ_REQUIRE_WORKER:
        return Check("worker", True, "not required (SHOPLENS_READYZ_REQUIRE_WORKER=false)")
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return Check("worker", True, "indexing runs in the web process")
    from celery import current_app  # the project's app (config.celery), without importing config

    try:
        replies = current_app.control.inspect(timeout=WORKER_PING_TIMEOUT_S).ping() or {}
    except Exception as exc:
        return Check("worker", False, _reason(exc))
    if not replies:
        return Check("worker", False, f"no worker answered a ping within {WORKER_PING_TIMEOUT_S:.0f} s")
    return Check("worker", True, f"{len(replies)} answering")


def readiness() -> Readiness:
    database = check_database()
    migrations = check_migrations() if database.ok else Check("migrations", False, "database unavailable")
    broker = check_broker()
    worker = check_worker() if broker.ok else Check("worker", False, "broker unavailable")
    result = Readiness((database, migrations, broker, worker))
    if not result.ready:
        logger.warning("Not ready: %s", "; ".join(f"{c.name}: {c.detail}" for c in result.checks if not c.ok))
    return result


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}".strip()[:300]
