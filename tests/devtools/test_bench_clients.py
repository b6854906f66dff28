"""bench_search's client sweep: concurrent clients on the primary, then on the primary and a
hot standby started for the run, on a tiny bench catalogue."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections

from devtools.databases import drop_database

CLIENT_COUNTS = [1, 2]
SEARCHES = 12


@pytest.mark.django_db(transaction=True, databases=["default", "replica1"])  # the standby comes in as replica1
def test_bench_search_reports_searches_per_second_for_each_number_of_clients_on_one_and_two_servers(settings) -> None:
    database, replica = connection.settings_dict["NAME"], dict(connections["replica1"].settings_dict)
    out = StringIO()
    try:
        call_command(
            "bench_search", "--products", "300", "--queries", "5", "--only", "clients", "--clients", "1,2",
            "--client-searches", str(SEARCHES), "--replica", "--replica-shared-buffers", "128MB", "--json",
            stdout=out, stderr=StringIO(),
        )  # fmt: skip
    finally:
        drop_database(f"{database}_bench")

    report = json.loads(out.getvalue())["clients"]
    for servers in ("primary", "primary_and_replica"):
        assert [run["clients"] for run in report[servers]] == CLIENT_COUNTS
        for run in report[servers]:
            assert run["searches"] == SEARCHES and run["errors"] == 0, run
            assert run["searches_per_s"] > 0 and 0 < run["p50_ms"] <= run["p95_ms"]
    assert all(set(run["statements"]) == {"default"} for run in report["primary"])
    for run in report["primary_and_replica"]:  # the round robin used both servers, and nothing else
        assert set(run["statements"]) == {"default", "replica1"} and min(run["statements"].values()) > 0, run
    assert report["replica"]["server_settings"]["shared_buffers"] == "128MB" and report["replica"]["prewarmed"]
    # Everything is as before: the connections, the aliases, no standby left behind.
    assert connection.settings_dict["NAME"] == database
    assert connections["replica1"].settings_dict == replica
    assert not list((Path(settings.VAR_DIR) / "standby").glob("bench-*"))
