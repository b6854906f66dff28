"""``search_stats`` on a fixture of events: searches, zero results, clicks, CTR, MRR, positions."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from analytics import services
from analytics.models import Channel
from tests.analytics.conftest import days_ago, hits, record

pytestmark = pytest.mark.django_db


def _click(event, position: int, type: str = "click") -> None:
    services.interaction_record(
        search_id=event.pk, product_id=event.product_ids[position - 1], position=position, type=type, channel="api"
    )


@pytest.fixture
def events(settings):
    settings.SHOPLENS_SEARCH_RELEVANCE_FLOOR = {"image": 30}
    boots = record(text="red boots", results=hits(1, 2, 3))
    _click(boots, 1)
    _click(boots, 3)
    record(text="zzz")
    photo = record(kind="image", text="", results=hits(4, 5))
    _click(photo, 2)
    _click(photo, 2, "add_to_basket")
    record(kind="image", text="", results=hits(6, 7, match=21))  # best hit 20 % < the floor of 30
    record(text="ZZZ ", performed_at=days_ago(1))
    record(text="lamp", results=hits(8), performed_at=days_ago(1))
    old = record(text="old", results=hits(9), performed_at=days_ago(10))
    _click(old, 1)


def _stats(*args: str) -> dict:
    out = StringIO()
    call_command("search_stats", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def test_search_stats_counts_searches_zero_results_clicks_ctr_and_mrr(events):
    totals = _stats("--days", "7")["totals"]

    assert totals["searches"] == 6
    assert totals["zero_results"] == 3  # "zzz" twice and the photo below the floor
    assert totals["clicked_searches"] == 2 and totals["clicks"] == 3
    assert totals["ctr"] == pytest.approx(2 / 6, abs=1e-4)
    assert totals["mrr"] == pytest.approx((1 + 1 / 2) / 6, abs=1e-4)
    assert totals["add_to_basket"] == 1 and totals["purchases"] == 0
    assert totals["mean_ms"] == totals["p95_ms"] == 20.0


def test_search_stats_splits_by_kind_and_day_and_ranks_zero_result_queries(events):
    stats = _stats("--days", "7")

    assert stats["by_kind"]["image"]["searches"] == 2 and stats["by_kind"]["image"]["zero_results"] == 1
    assert stats["by_kind"]["text"]["searches"] == 4 and stats["by_kind"]["text"]["ctr"] == 0.25
    assert sorted((row["day"] == stats["until"], row["kind"], row["searches"]) for row in stats["daily"]) == [
        (False, "text", 2),
        (True, "image", 2),
        (True, "text", 2),
    ]
    assert [(row["text"], row["searches"]) for row in stats["zero_result_queries"]] == [("zzz", 2)]
    assert [(p["position"], p["searches"], p["clicked"]) for p in stats["ctr_by_position"][:3]] == [
        (1, 4, 1),
        (2, 3, 1),
        (3, 1, 1),
    ]


def test_search_stats_window_takes_older_days_in(events):
    assert _stats("--days", "30")["totals"]["searches"] == 7


def test_search_stats_prints_a_table_without_json(events):
    out = StringIO()
    call_command("search_stats", stdout=out)

    assert "all" in out.getvalue() and "zzz" in out.getvalue() and Channel.API == "api"
