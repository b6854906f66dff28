"""Search throughput with concurrent clients, on the primary alone and on the primary plus a hot
standby, so capacity planning has a number.

K threads of this process search together, each with database connections of its own, through
``search_vectors`` (the selector behind the API): the photo queries of ``devtools.bench.search``
(CLIP + visual, unfiltered, vectors pre-computed) in turn, until ``searches`` searches are done
or ``seconds`` have passed. The threads share one interpreter, so the Python part of each search
runs one thread at a time, as in one web worker process serving K requests at once.

With a replica, a standby of the bench database's server is started for the run behind the
``replica1`` alias, and the shop's own round robin (``catalog.replicas``) is given the standby and
the primary as its read databases (as if ``DATABASE_REPLICA_URLS`` listed both), so that searches
alternate between the two servers.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import shutil
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import override_settings

from catalog import replicas
from catalog.criteria import ProductCriteria
from devtools.bench.search import BOTH, LIMIT, photo_query_vectors, prewarm
from devtools.standby import primary_lsn, start_standby
from visualsearch.selectors import active_spaces, search_vectors

STANDBY_ALIAS = "replica1"
WARM_UP_SEARCHES = 2  # per client, before the clock starts: its connections open and its backends warm
STANDBY_MAX_SHARED_BUFFERS_MB = 2048
SERVER_SETTINGS = ["shared_buffers", "effective_cache_size", "work_mem", "max_connections"]


def parse_clients(value: str) -> list[int]:
    """``"1,2,4,8"`` -> ``[1, 2, 4, 8]`` (the type of ``bench_search --clients``)."""
    try:
        counts = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"expected numbers of clients such as 1,2,4,8, not {value!r}")
    return counts


@dataclass
class ClientRun:
    """What ``clients`` concurrent clients did in one run."""

    clients: int
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    statements: Counter[str] = field(default_factory=Counter)  # per database alias

    def as_dict(self) -> dict[str, Any]:
        timings = sorted(self.latencies_ms)
        report: dict[str, Any] = {
            "clients": self.clients,
            "searches": len(timings),
            "seconds": round(self.seconds, 2),
            "searches_per_s": round(len(timings) / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(statistics.median(timings), 2) if timings else None,
            "p95_ms": round(timings[min(len(timings) - 1, int(0.95 * len(timings)))], 2) if timings else None,
            "errors": len(self.errors),
            "statements": dict(sorted(self.statements.items())),
        }
        if self.errors:
            report["first_error"] = self.errors[0]
        return report


def measure_clients(
    *,
    clients: Sequence[int],
    products: int,
    queries: int,
    noise: float,
    seed: int,
    data: str,
    searches: int,
    seconds: float,
    replica: bool,
    replica_shared_buffers: str | None,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """The client sweep on the default connection's database (and, with ``replica``, on it plus a
    standby): for each number of clients, searches/s, p50 and p95 in ms, errors."""
    spaces = active_spaces()
    rng = np.random.default_rng(seed + 1)  # the draws of search.measure: the same queries
    sources = rng.integers(1, products + 1, size=queries)
    vectors = photo_query_vectors(spaces=spaces, sources=sources, rng=rng, noise=noise, products=products, seed=seed,
                                  data=data)  # fmt: skip

    def sweep(databases: list[str]) -> list[dict[str, Any]]:
        runs = []
        for count in clients:
            run = run_clients(clients=count, vectors=vectors, spaces=spaces, searches=searches, seconds=seconds,
                              databases=databases).as_dict()  # fmt: skip
            log(f"{count} clients on {' + '.join(databases)}: {run['searches_per_s']} searches/s")
            runs.append(run)
        return runs

    report: dict[str, Any] = {"kind": "image", "signals": list(BOTH), "filtered": False, "limit": LIMIT,
                              "max_searches": searches, "max_seconds": seconds}  # fmt: skip
    with override_settings(SHOPLENS_REPLICA_DATABASES=[]):  # one server, whatever replicas are configured
        report["primary"] = sweep([DEFAULT_DB_ALIAS])
    if replica:
        with _standby(shared_buffers=replica_shared_buffers or standby_shared_buffers(), log=log) as standby:
            report["replica"] = standby
            aliases = [STANDBY_ALIAS, DEFAULT_DB_ALIAS]
            with override_settings(SHOPLENS_REPLICA_DATABASES=aliases):
                _wait_until_usable(aliases)
                report["primary_and_replica"] = sweep(aliases)
    return report


def run_clients(
    *,
    clients: int,
    vectors: Mapping[str, np.ndarray],
    spaces: Mapping[tuple[str, str], Any],
    searches: int,
    seconds: float,
    databases: Sequence[str],
) -> ClientRun:
    """``clients`` threads searching at once, ``searches`` in all or for ``seconds``, whichever
    ends first. Each opens its connections to ``databases`` and warms up before the clock starts
    and closes its connections at the end."""
    run = ClientRun(clients=clients)
    queries = len(next(iter(vectors.values())))
    turns = itertools.count()  # next() of a count is atomic: each search index is taken once
    lock = threading.Lock()
    clock: dict[str, float] = {}

    def start_clock() -> None:  # run by the last client to reach the barrier
        clock["start"] = time.perf_counter()

    barrier = threading.Barrier(clients, action=start_clock)
    finished: list[float] = []
    counted = list(dict.fromkeys([*databases, DEFAULT_DB_ALIAS]))

    def search(index: int) -> None:
        query = {name: signal[index % queries] for name, signal in vectors.items()}
        search_vectors(vectors=query, kind="image", criteria=ProductCriteria(), limit=LIMIT, spaces=spaces)

    def client(number: int) -> None:
        latencies: list[float] = []
        errors: list[str] = []
        statements: Counter[str] = Counter()
        try:
            for alias in databases:
                connections[alias].ensure_connection()
            for turn in range(WARM_UP_SEARCHES):
                search(number + turn)
            barrier.wait()
            deadline = clock["start"] + seconds
            with ExitStack() as stack:
                for alias in counted:
                    stack.enter_context(connections[alias].execute_wrapper(_counting(statements, alias)))
                while (index := next(turns)) < searches and time.perf_counter() < deadline:
                    started = time.perf_counter()
                    try:
                        search(index)
                    except Exception as error:  # counted, the client goes on
                        errors.append(repr(error))
                        continue
                    latencies.append((time.perf_counter() - started) * 1000)
        except threading.BrokenBarrierError:
            pass  # another client failed before the start
        except Exception as error:
            errors.append(repr(error))
            barrier.abort()
        finally:
            ended = time.perf_counter()
            connections.close_all()
            with lock:
                run.latencies_ms += latencies
                run.errors += errors
                run.statements.update(statements)
                finished.append(ended)

    threads = [threading.Thread(target=client, args=(number,), name=f"client-{number}") for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if "start" in clock:
        run.seconds = max(finished) - clock["start"]
    return run


def standby_shared_buffers() -> str:
    """2GB, or a quarter of the memory available now when that is less (at least 128MB)."""
    available_mb = _available_memory_kb() // 1024
    return f"{max(128, min(STANDBY_MAX_SHARED_BUFFERS_MB, available_mb // 4))}MB"


@contextmanager
def _standby(*, shared_buffers: str, log: Callable[[str], None]) -> Iterator[dict[str, Any]]:
    """A hot standby of the default connection's server, replayed up to now, prewarmed, behind
    ``STANDBY_ALIAS``; stopped and removed after."""
    default = connections[DEFAULT_DB_ALIAS].settings_dict
    host, user = str(default["HOST"]), str(default["USER"])
    parent = Path(settings.VAR_DIR) / "standby" / f"bench-{uuid.uuid4().hex[:8]}"
    parent.mkdir(parents=True)
    parent.chmod(0o755)
    log(f"Starting a standby of {host} in {parent} (shared_buffers {shared_buffers})")
    started = time.perf_counter()
    environment = getattr(settings, "SHOPLENS_POSTGRES_ENVIRONMENT", {})  # as the primary runs (config/embedded.py)
    try:
        server = start_standby(primary_socket_dir=host, user=user, parent=parent,
                               settings={"shared_buffers": shared_buffers}, environment=environment)  # fmt: skip
        try:
            server.wait_for(primary_lsn(host, user), timeout=600)
            with _alias(STANDBY_ALIAS, host=str(server.socket_dir)):
                report: dict[str, Any] = {"start_seconds": round(time.perf_counter() - started, 1)}
                report["prewarmed"] = prewarm(STANDBY_ALIAS)
                with connections[STANDBY_ALIAS].cursor() as cursor:
                    cursor.execute("SELECT name, current_setting(name) FROM unnest(%s::text[]) name", [SERVER_SETTINGS])
                    report["server_settings"] = dict(cursor.fetchall())
                yield report
        finally:
            server.stop()
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@contextmanager
def _alias(alias: str, *, host: str) -> Iterator[None]:
    """``alias`` reads the default connection's database on ``host`` inside the block (added to the
    connections when not configured, restored after). Every thread's connection of an alias is
    made from the one settings dict, so that dict is changed in place."""
    before = None
    if alias in connections.settings:
        before = copy.deepcopy(connections.settings[alias])
        connections[alias].close()
    entry = connections.settings.setdefault(alias, {})
    entry.clear()
    entry.update(copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict), HOST=host)
    try:
        yield
    finally:
        connections[alias].close()
        entry.clear()
        if before is None:
            del connections.settings[alias]
            with suppress(AttributeError):  # no connection of it was made in this thread
                del connections[alias]
        else:
            entry.update(before)


def _wait_until_usable(aliases: Sequence[str], timeout: float = 30.0) -> None:
    """Until ``catalog.replicas`` takes every alias as usable (reachable, lag under its limit)."""
    deadline = time.monotonic() + timeout
    while not all(replicas.state(alias).usable for alias in aliases):
        if time.monotonic() > deadline:
            raise TimeoutError(f"read databases {aliases} not usable after {timeout} s")
        time.sleep(0.1)


def _counting(counts: Counter[str], alias: str) -> Callable[..., Any]:
    """An execute wrapper counting the statements sent to ``alias``."""

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        counts[alias] += 1
        return execute(sql, params, many, context)

    return wrapper


def _available_memory_kb() -> int:
    """MemAvailable of /proc/meminfo; 8 GB assumed where there is none."""
    with suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 8 * 1024 * 1024
