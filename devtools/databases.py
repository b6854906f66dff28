"""Throwaway databases beside the configured one, for benchmarks: created on the same server,
migrated, and made the default connection for the duration of a block, so the code measured
runs unchanged (no ``using=`` through production paths)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management import call_command
from django.db import connection


def server_params(db: dict[str, Any]) -> dict[str, Any]:
    """psycopg connection keywords of a Django database settings dict (without the database name)."""
    params = {"user": db.get("USER") or None, "password": db.get("PASSWORD") or None}
    params["host"] = db.get("HOST") or (db.get("OPTIONS") or {}).get("host")
    if db.get("PORT"):
        params["port"] = db["PORT"]
    return {key: value for key, value in params.items() if value}


def database_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(**server_params(connection.settings_dict), dbname="postgres", autocommit=True) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def create_database(name: str) -> None:
    """An empty database ``name`` on the default connection's server (dropped first if it exists)."""
    _admin_statement("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
    _admin_statement("CREATE DATABASE {}", name)


def drop_database(name: str) -> None:
    _admin_statement("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


def _admin_statement(statement: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(**server_params(connection.settings_dict), dbname="postgres", autocommit=True) as admin:
        admin.execute(sql.SQL(statement).format(sql.Identifier(name)))


@contextmanager
def database_beside(suffix: str, *, fresh: bool, keep: bool = True) -> Iterator[dict[str, Any]]:
    """Make ``<default NAME><suffix>`` the default connection inside the block (created and
    migrated when missing; dropped and re-created first when ``fresh``; dropped at the end
    unless ``keep``). Yields its settings dict."""
    original = connection.settings_dict["NAME"]
    name = f"{original}{suffix}"
    connection.close()
    if fresh or not database_exists(name):
        create_database(name)
    connection.settings_dict["NAME"] = name
    try:
        call_command("migrate", verbosity=0, interactive=False)
        yield dict(connection.settings_dict)
    finally:
        connection.close()
        connection.settings_dict["NAME"] = original
        if not keep:
            drop_database(name)
