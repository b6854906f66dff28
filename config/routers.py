"""Database routing: catalogue reads of read-only requests go to a replica (catalog/replicas.py)."""

from __future__ import annotations

from typing import Any

from catalog import replicas


class ReplicaRouter:
    """Reads of the replicated apps go where the request chose (``ReplicaReadsMiddleware``);
    everything else, and every write, goes to the primary. Replicas are never migrated."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        if model._meta.app_label in replicas.REPLICATED_APPS:  # type: ignore[attr-defined]
            return replicas.request_database()
        return None

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        instance = hints.get("instance")
        if instance is not None and instance._state.db in replicas.replica_aliases():
            return replicas.PRIMARY  # an object read from a replica is saved on the primary
        return None

    def allow_relation(self, first: Any, second: Any, **hints: Any) -> bool | None:
        same_data = {replicas.PRIMARY, *replicas.replica_aliases()}
        return True if {first._state.db, second._state.db} <= same_data else None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db in replicas.replica_aliases() else None
