"""``DATABASES`` entries of the read replicas named in ``DATABASE_REPLICA_URLS`` (catalog/replicas.py)."""

from __future__ import annotations

import environ


def replica_databases(env: environ.Env) -> dict[str, dict[str, object]]:
    """``replica1``, ``replica2``, ... in the order given. A dead host costs ``connect_timeout``
    once, then is skipped until its next check; tests read them from the test database."""
    conn_max_age = env.int("DATABASE_CONN_MAX_AGE", default=60)
    databases: dict[str, dict[str, object]] = {}
    for number, url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[]), start=1):
        replica: dict[str, object] = {"CONN_MAX_AGE": conn_max_age, **environ.Env.db_url_config(url)}
        options = replica.get("OPTIONS") or {}
        assert isinstance(options, dict)
        replica["OPTIONS"] = {"connect_timeout": 2, **options}
        replica["TEST"] = {"MIRROR": "default"}
        databases[f"replica{number}"] = replica
    return databases
