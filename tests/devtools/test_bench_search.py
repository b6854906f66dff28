"""bench_search's latency and recall report on a tiny bench catalogue."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from devtools.databases import drop_database


def _bench(*args: str) -> dict:
    """bench_search's JSON report on the photo spaces, with these options."""
    out = StringIO()
    call_command("bench_search", "--spaces", "clip,visual", "--json", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


@pytest.mark.django_db(transaction=True)
def test_bench_search_reports_latency_recall_and_the_first_searches_of_new_connections() -> None:
    database = connection.settings_dict["NAME"]
    try:
        report = _bench("--products", "300", "--queries", "5", "--only", "unfiltered")
    finally:
        drop_database(f"{database}_bench")

    assert report["n_products"] == 300 and report["n_queries"] == 5
    assert 0 < report["p50_ms"] <= report["p95_ms"] and report["new_connection_p50_ms"] > 0
    assert report["exact_source_hit_at_10"] == 1.0  # a second photo of a product finds it on the exact path
    assert 0.5 <= report["recall_at_10"] <= 1.0
    assert {"huge_pages_status", "shared_buffers"} <= set(report["server_settings"])
    assert "filtered_p50_ms" not in report  # --only unfiltered
    assert connection.settings_dict["NAME"] == database


@pytest.mark.django_db(transaction=True)
def test_a_catalogue_without_hnsw_indexes_measures_the_exact_path_of_filters() -> None:
    database = connection.settings_dict["NAME"]
    with pytest.raises(CommandError, match="--only filtered"):
        call_command("bench_search", "--products", "200", "--without-hnsw", stdout=StringIO(), stderr=StringIO())
    try:
        report = _bench("--products", "2000", "--queries", "3", "--only", "filtered", "--without-hnsw")
        later = _bench("--products", "2000", "--queries", "3", "--only", "unfiltered")
    finally:
        drop_database(f"{database}_bench")
    assert "index_clip" not in report["build_seconds"] and report["filtered_recall_at_10"] == 1.0
    assert report["filtered_full_pages"] == 1.0 and "p50_ms" not in report
    assert "index_clip" in later["build_seconds"]  # the next run builds the indexes


@pytest.mark.django_db(transaction=True)
def test_the_visual_space_can_be_rotated_and_indexed_over_its_leading_components() -> None:
    database = connection.settings_dict["NAME"]
    try:
        report = _bench(
            "--products", "2000", "--queries", "5", "--only", "unfiltered", "--visual-index-dimensions", "64"
        )
    finally:
        drop_database(f"{database}_bench")
    assert report["index_dimensions"] == {"clip": None, "visual": 64}
    assert report["exact_source_hit_at_10"] == 1.0 and report["recall_at_10"] >= 0.8
