"""Read replicas in the settings: ``DATABASE_REPLICA_URLS`` to ``DATABASES`` entries, the router
and its middleware (the logic is in catalog/replicas.py)."""

from __future__ import annotations

from typing import Any

import environ

MIDDLEWARE = "catalog.replicas.ReplicaReadsMiddleware"


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


def configure_replicas(settings: dict[str, Any], env: environ.Env) -> None:
    """Called from a settings module with ``globals()``: the replicas' databases, their
    ``SHOPLENS_REPLICA_*`` settings, the router, and the middleware right after authentication
    (a read-only request outside the admin reads the catalogue from one replica)."""
    settings["DATABASES"] |= replica_databases(env)
    settings["SHOPLENS_REPLICA_DATABASES"] = [alias for alias in settings["DATABASES"] if alias.startswith("replica")]
    settings["SHOPLENS_REPLICA_MAX_LAG_SECONDS"] = env.float("SHOPLENS_REPLICA_MAX_LAG_SECONDS", default=5.0)
    settings["SHOPLENS_REPLICA_CHECK_SECONDS"] = env.float("SHOPLENS_REPLICA_CHECK_SECONDS", default=1.0)
    settings["DATABASE_ROUTERS"] = ["config.routers.ReplicaRouter"]
    middleware = settings["MIDDLEWARE"]
    if MIDDLEWARE not in middleware:
        middleware.insert(middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1, MIDDLEWARE)
