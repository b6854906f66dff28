"""Search quality figures from the recorded events, aggregated in PostgreSQL.

Definitions (the README repeats them):
- zero-result search: no hit, or its best hit below the relevance floor of its kind
  (``SHOPLENS_SEARCH_RELEVANCE_FLOOR``, match percent per kind, 45 by default);
- CTR: share of searches with at least one click; CTR at position p: searches with a click at
  p over searches that showed at least p results;
- MRR: mean over searches of 1 / position of the first click (0 for a search without a click).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Lower, Trim, TruncDate
from django.utils import timezone

from analytics.models import InteractionType, ResultInteraction, SearchEvent
from catalog.models import Category

POSITIONS = 10  # CTR by position is reported for the first this many results
TOP = 20


class Percentile(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


@dataclasses.dataclass(frozen=True)
class Figures:
    searches: int
    zero_results: int
    zero_result_rate: float
    clicked_searches: int
    clicks: int
    ctr: float
    mrr: float
    add_to_basket: int
    purchases: int
    mean_ms: float | None
    p50_ms: float | None
    p95_ms: float | None


@dataclasses.dataclass(frozen=True)
class SearchStats:
    since: date
    until: date
    relevance_floor: dict[str, int]
    totals: Figures
    by_kind: dict[str, Figures]
    per_day: list[dict[str, Any]]  # one row per day with searches, all kinds: {"day", **Figures}
    daily: list[dict[str, Any]]  # one row per (day, kind): {"day", "kind", **Figures}
    ctr_by_position: list[dict[str, Any]]  # {"position", "searches", "clicked", "ctr"}
    zero_result_queries: list[dict[str, Any]]  # {"text", "searches", "last_search_id"}
    top_categories: list[dict[str, Any]]  # {"category_id", "name", "searches"}

    def as_dict(self) -> dict[str, Any]:
        return json_ready(dataclasses.asdict(self))


def relevance_floor() -> dict[str, int]:
    """The match percent under which a kind's best hit does not count as found."""
    return {str(kind): int(value) for kind, value in getattr(settings, "SHOPLENS_SEARCH_RELEVANCE_FLOOR", {}).items()}


def events_since(days: int, *, now: datetime | None = None) -> QuerySet[SearchEvent]:
    """Events of the last ``days`` days (today counts as one)."""
    today = timezone.localdate(now or timezone.now())
    start = datetime.combine(today - timedelta(days=max(1, days) - 1), datetime.min.time())
    return SearchEvent.objects.filter(created_at__gte=timezone.make_aware(start))


def zero_result_condition(floor: dict[str, int]) -> Q:
    condition = Q(result_count=0) | Q(top_match_percent__isnull=True)
    for kind, percent in floor.items():
        condition |= Q(kind=kind, top_match_percent__lt=percent)
    return condition


def search_stats(*, days: int = 7, now: datetime | None = None) -> SearchStats:
    events = events_since(days, now=now)
    floor = relevance_floor()
    annotated = _annotated(events, floor)
    by_kind = {row.pop("kind"): _figures(row) for row in _aggregate(annotated, ["kind"])}
    today = timezone.localdate(now or timezone.now())
    return SearchStats(
        since=today - timedelta(days=max(1, days) - 1),
        until=today,
        relevance_floor=floor,
        totals=_figures(_aggregate(annotated, [])[0]),
        by_kind=dict(sorted(by_kind.items())),
        per_day=[
            {"day": row.pop("day"), **dataclasses.asdict(_figures(row))} for row in _aggregate(annotated, ["day"])
        ],
        daily=[
            {"day": row.pop("day"), "kind": row.pop("kind"), **dataclasses.asdict(_figures(row))}
            for row in _aggregate(annotated, ["day", "kind"])
        ],
        ctr_by_position=ctr_by_position(events),
        zero_result_queries=zero_result_queries(events, floor),
        top_categories=top_categories(events),
    )


def ctr_by_position(events: QuerySet[SearchEvent]) -> list[dict[str, Any]]:
    shown = events.aggregate(**{f"p{p}": Count("pk", filter=Q(result_count__gte=p)) for p in range(1, POSITIONS + 1)})
    clicked = dict(
        ResultInteraction.objects.filter(event__in=events.values("pk"), type=InteractionType.CLICK)
        .filter(position__lte=POSITIONS)
        .values("position")
        .annotate(searches=Count("event", distinct=True))
        .values_list("position", "searches")
    )
    return [
        {
            "position": p,
            "searches": shown[f"p{p}"],
            "clicked": clicked.get(p, 0),
            "ctr": _share(clicked.get(p, 0), shown[f"p{p}"]),
        }
        for p in range(1, POSITIONS + 1)
    ]


def zero_result_queries(events: QuerySet[SearchEvent], floor: dict[str, int], *, top: int = TOP) -> list[dict]:
    """The most frequent texts of searches that found nothing, with the latest such search."""
    rows = (
        events.filter(zero_result_condition(floor))
        .exclude(text="")
        .annotate(query=Lower(Trim("text")))
        .values("query")
        .annotate(searches=Count("pk"), last_at=Max("created_at"))
        .order_by("-searches", "-last_at", "query")[:top]
    )
    return [{"text": row["query"], "searches": row["searches"], "last_at": row["last_at"]} for row in rows]


def top_categories(events: QuerySet[SearchEvent], *, top: int = 10) -> list[dict[str, Any]]:
    rows = list(
        events.exclude(category_id=None)
        .values("category_id")
        .annotate(searches=Count("pk"))
        .order_by("-searches", "category_id")[:top]
    )
    ids = [row["category_id"] for row in rows if row["category_id"] is not None]
    names: dict[int | None, str] = {category.pk: str(category) for category in Category.objects.filter(pk__in=ids)}
    return [{**row, "name": names.get(row["category_id"], f"#{row['category_id']} (deleted)")} for row in rows]


def json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _annotated(events: QuerySet[SearchEvent], floor: dict[str, int]) -> QuerySet[SearchEvent]:
    clicks = ResultInteraction.objects.filter(event=OuterRef("pk"), type=InteractionType.CLICK)
    by_type = ResultInteraction.objects.filter(event=OuterRef("pk"))
    return events.annotate(
        day=TruncDate("created_at"),
        first_click=Subquery(clicks.order_by("position").values("position")[:1]),
        n_clicks=_count_of(clicks),
        n_baskets=_count_of(by_type.filter(type=InteractionType.ADD_TO_BASKET)),
        n_purchases=_count_of(by_type.filter(type=InteractionType.PURCHASE)),
        zero=Case(When(zero_result_condition(floor), then=Value(1)), default=Value(0), output_field=IntegerField()),
    )


def _count_of(interactions: QuerySet[ResultInteraction]) -> Coalesce:
    counted = interactions.order_by().values("event").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _aggregate(annotated: QuerySet[SearchEvent], group_by: Sequence[str]) -> list[dict[str, Any]]:
    figures = {
        "searches": Count("pk"),
        "zero_results": Coalesce(Sum("zero"), Value(0)),
        "clicked_searches": Count("pk", filter=Q(first_click__isnull=False)),
        "clicks": Coalesce(Sum("n_clicks"), Value(0)),
        "mrr_sum": Coalesce(Sum(Value(1.0) / Cast(F("first_click"), FloatField()), output_field=FloatField()), 0.0),
        "add_to_basket": Coalesce(Sum("n_baskets"), Value(0)),
        "purchases": Coalesce(Sum("n_purchases"), Value(0)),
        "mean_ms": Avg("total_ms"),
        "p50_ms": Percentile("total_ms", 0.5),
        "p95_ms": Percentile("total_ms", 0.95),
    }
    if not group_by:
        return [annotated.order_by().aggregate(**figures)]
    return list(annotated.order_by().values(*group_by).annotate(**figures).order_by(*group_by))


def _figures(row: dict[str, Any]) -> Figures:
    searches = int(row["searches"])
    return Figures(
        searches=searches,
        zero_results=int(row["zero_results"]),
        zero_result_rate=_share(int(row["zero_results"]), searches),
        clicked_searches=int(row["clicked_searches"]),
        clicks=int(row["clicks"]),
        ctr=_share(int(row["clicked_searches"]), searches),
        mrr=_share(float(row["mrr_sum"]), searches),
        add_to_basket=int(row["add_to_basket"]),
        purchases=int(row["purchases"]),
        mean_ms=_ms(row["mean_ms"]),
        p50_ms=_ms(row["p50_ms"]),
        p95_ms=_ms(row["p95_ms"]),
    )


def _share(part: float, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _ms(value: float | None) -> float | None:
    return round(float(value), 2) if value is not None else None
