"""The embedded PostgreSQL's memory is sized from the machine, and a variable overrides each value."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from config.embedded_memory import MB, MemorySettings, huge_pages_hint, memory_settings, running_memory_settings

ROOT = Path(__file__).resolve().parents[2]
GB = MB * MB

START_AND_SHOW = """
import json, sys
from pathlib import Path
import psycopg
from config.embedded import start_embedded_postgres
from config.embedded_memory import running_memory_settings
server = start_embedded_postgres(Path(sys.argv[1]))
with psycopg.connect(host=server.socket_dir, user=server.user, dbname=server.database) as conn:
    print(json.dumps(running_memory_settings(conn).__dict__))
"""


def _start_and_show(data_dir: Path, **variables: str) -> MemorySettings:
    """Start the embedded server in a process of its own (it stops when that process exits)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLENS_POSTGRES_")} | variables
    result = subprocess.run(
        [sys.executable, "-c", START_AND_SHOW, str(data_dir)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return MemorySettings(**json.loads(result.stdout.strip().splitlines()[-1]))


def test_memory_is_a_quarter_for_buffers_and_three_quarters_for_the_cache_estimate() -> None:
    sized = memory_settings({}, memory_kb=24 * GB)
    assert sized == MemorySettings(
        shared_buffers=6 * GB, effective_cache_size=18 * GB, work_mem=61 * MB, maintenance_work_mem=1536 * MB
    )
    small = memory_settings({}, memory_kb=1 * GB)
    assert small.shared_buffers == 256 * MB and small.work_mem == 4 * MB and small.maintenance_work_mem == 64 * MB


def test_a_variable_overrides_its_value_only() -> None:
    sized = memory_settings({"SHOPLENS_POSTGRES_SHARED_BUFFERS": "2GB"}, memory_kb=24 * GB)
    assert sized.shared_buffers == 2 * GB
    assert sized.effective_cache_size == 18 * GB


@pytest.mark.parametrize("value", ["lots", "2 PB", "0MB", "-1GB"])
def test_a_bad_size_names_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match="SHOPLENS_POSTGRES_WORK_MEM"):
        memory_settings({"SHOPLENS_POSTGRES_WORK_MEM": value})


def test_the_test_server_runs_with_the_computed_settings() -> None:
    database = settings.DATABASES["default"]
    with psycopg.connect(host=str(database["HOST"]), user=str(database["USER"]), dbname="postgres") as conn:
        assert running_memory_settings(conn) == memory_settings()


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data directory outside /tmp/pytest-of-<user>: pytest sessions of other users of the
    machine reset that directory to mode 0700, which locks the server's own user out of it."""
    path = Path(settings.VAR_DIR) / "test" / f"memory-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    yield path / "pg"
    shutil.rmtree(path, ignore_errors=True)


def test_a_new_server_gets_the_settings_and_a_variable_wins(data_dir: Path) -> None:
    shown = _start_and_show(data_dir, SHOPLENS_POSTGRES_SHARED_BUFFERS="256MB")
    assert shown == dataclasses.replace(memory_settings({}), shared_buffers=256 * MB)

    # The next start of the same data directory applies the variables of the process starting it.
    shown = _start_and_show(data_dir, SHOPLENS_POSTGRES_WORK_MEM="7MB")
    assert shown == dataclasses.replace(memory_settings({}), work_mem=7 * MB)


class _Answers:
    """A connection whose one query answers ``row``."""

    def __init__(self, row: tuple[str, str, int]) -> None:
        self.row = row

    def execute(self, statement: str) -> _Answers:
        return self

    def fetchone(self) -> tuple[str, str, int]:
        return self.row


def test_huge_pages_are_suggested_for_a_large_pool_on_4_kb_pages_only() -> None:
    hint = huge_pages_hint(_Answers(("off", "3100", 6 * GB)))
    assert hint is not None and "sysctl -w vm.nr_hugepages=3100" in hint and "6144 MB" in hint
    assert huge_pages_hint(_Answers(("on", "3100", 6 * GB))) is None
    assert huge_pages_hint(_Answers(("off", "70", 128 * MB))) is None  # too few faults to matter
    assert huge_pages_hint(_Answers(("unknown", "3100", 6 * GB))) is None


def test_the_hint_reads_the_running_server() -> None:
    database = settings.DATABASES["default"]
    with psycopg.connect(host=str(database["HOST"]), user=str(database["USER"]), dbname="postgres") as conn:
        row = conn.execute("SELECT current_setting('huge_pages_status')").fetchone()
        assert row is not None
        status = row[0]
        hint = huge_pages_hint(conn)
    buffers = memory_settings().shared_buffers
    assert (hint is not None) == (status == "off" and buffers >= 1024 * MB)
