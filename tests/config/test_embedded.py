"""The embedded PostgreSQL and Valkey start, are shared and reused, and stop with their last user."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from config.embedded import (
    POSTGRES_MALLOC_ENVIRONMENT,
    EmbeddedValkey,
    _pid_alive,
    _responds,
    start_embedded_postgres,
)

ROOT = Path(__file__).resolve().parents[2]

HOLD_VALKEY = """
import sys, time
from pathlib import Path
from config.embedded import EmbeddedValkey
print(EmbeddedValkey(Path(sys.argv[1])).acquire(), flush=True)
sys.stdin.readline()
"""

HOLD_POSTGRES = """
import sys
from pathlib import Path
from config.embedded import start_embedded_postgres
server = start_embedded_postgres(Path(sys.argv[1]), database="shop")
print(server.socket_dir, flush=True)
sys.stdin.readline()
"""


def _hold(script: str, data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(data_dir)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def _release(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("\n")
    process.stdin.flush()
    assert process.wait(timeout=30) == 0


def _wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_embedded_valkey_is_shared_between_processes_and_stops_with_the_last(tmp_path: Path) -> None:
    first, first_url = _hold(HOLD_VALKEY, tmp_path)
    second, second_url = _hold(HOLD_VALKEY, tmp_path)
    assert first_url == second_url
    state = json.loads((tmp_path / "state.json").read_text())
    server_pid, port = state["pid"], state["port"]
    assert _responds(port)

    _release(first)
    assert _responds(port), "the server must outlive a process while another still uses it"

    _release(second)
    assert _wait_until(lambda: not _pid_alive(server_pid))
    assert not _responds(port)


def test_embedded_valkey_is_started_again_after_a_stop(tmp_path: Path) -> None:
    valkey = EmbeddedValkey(tmp_path)
    url = valkey.acquire()
    valkey.release()
    assert not _responds(int(url.rsplit(":", 1)[1]))
    again = valkey.acquire()
    try:
        assert _responds(int(again.rsplit(":", 1)[1]))
    finally:
        valkey.release()


def test_embedded_postgres_starts_is_reused_and_stops(tmp_path: Path) -> None:
    data_dir = tmp_path / "postgres"
    first, socket_dir = _hold(HOLD_POSTGRES, data_dir)
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    with psycopg.connect(host=socket_dir, user="postgres", dbname="shop", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("CREATE TABLE kept (v vector(2))")
        conn.execute("INSERT INTO kept VALUES ('[1,2]')")

    second, second_socket = _hold(HOLD_POSTGRES, data_dir)
    assert second_socket == socket_dir
    assert int((data_dir / "postmaster.pid").read_text().split()[0]) == pid, "second process reuses the server"
    _release(first)
    _release(second)
    assert _wait_until(lambda: not _pid_alive(pid))
    assert not (data_dir / "postmaster.pid").exists()

    # The next run reuses the data directory: the table and its row are still there.
    third, socket_dir = _hold(HOLD_POSTGRES, data_dir)
    try:
        with psycopg.connect(host=socket_dir, user="postgres", dbname="shop") as conn:
            assert conn.execute("SELECT v::text FROM kept").fetchone() == ("[1,2]",)
    finally:
        _release(third)


def test_a_killed_process_does_not_keep_the_embedded_postgres_running(tmp_path: Path) -> None:
    data_dir = tmp_path / "postgres"
    survivor, _ = _hold(HOLD_POSTGRES, data_dir)
    victim, _ = _hold(HOLD_POSTGRES, data_dir)
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    victim.kill()  # no exit handlers: it stays on the library's list of users
    victim.wait(timeout=10)
    assert victim.pid in json.loads((data_dir / ".handle_pids.json").read_text())

    _release(survivor)

    assert _wait_until(lambda: not _pid_alive(pid)), "the last live user stops the server"


def test_configured_urls_are_used_instead_of_embedded_servers(tmp_path: Path) -> None:
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.REDIS_URL, settings.DATABASES['default']['HOST'])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": "postgres://u:p@db.internal:5432/shop",
        "REDIS_URL": "redis://cache.internal:6379/0",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["redis://cache.internal:6379/0", "db.internal"]


def test_start_embedded_postgres_creates_the_database(tmp_path: Path) -> None:
    server = start_embedded_postgres(tmp_path / "pg", database="fresh_db")
    with psycopg.connect(host=server.socket_dir, user=server.user, dbname="fresh_db") as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("fresh_db",)


def test_embedded_postgres_keeps_freed_memory_instead_of_faulting_it_in_every_query(tmp_path: Path) -> None:
    preset = {name for name in POSTGRES_MALLOC_ENVIRONMENT if name in os.environ}
    start_embedded_postgres(tmp_path / "pg")
    pid = int((tmp_path / "pg" / "postmaster.pid").read_text().split()[0])
    environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    for name, value in POSTGRES_MALLOC_ENVIRONMENT.items():
        expected = os.environ[name] if name in preset else value  # a value set by the user wins
        assert f"{name}={expected}".encode() in environment
        if name not in preset:
            assert name not in os.environ, "only the server gets it, not this process's later children"
