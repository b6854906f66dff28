"""What the staff dashboard shows: the figures of ``selectors.search_stats`` as charts and lists."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from analytics import charts
from analytics.models import SearchEvent, SearchKind
from analytics.selectors import SearchStats, events_since, relevance_floor, search_stats, zero_result_condition

DAY_CHOICES = (7, 30, 90)
GALLERY_SIZE = 24


def days_from(value: str | None) -> int:
    """The period asked for, one of ``DAY_CHOICES`` (anything else: the first)."""
    return int(value) if value and value.isdigit() and int(value) in DAY_CHOICES else DAY_CHOICES[0]


def context(*, days: int) -> dict[str, Any]:
    stats = search_stats(days=days)
    labels, per_day = _calendar(stats)
    positions = stats.ctr_by_position
    return {
        "title": "Search analytics",
        "days": days,
        "day_choices": DAY_CHOICES,
        "stats": stats,
        "kinds": [(SearchKind(kind).label, figures) for kind, figures in stats.by_kind.items()],
        "searches_chart": charts.bar_chart(
            labels, [row["searches"] for row in per_day], title="Searches per day", fmt=charts.count
        ),
        "ctr_chart": charts.line_chart(
            labels,
            {
                "CTR": [row["ctr"] if row["searches"] else None for row in per_day],
                "zero results": [row["zero_result_rate"] if row["searches"] else None for row in per_day],
            },
            title="Click-through and zero-result rate per day",
            fmt=charts.percent,
        ),
        "position_chart": charts.bar_chart(
            [f"#{row['position']}" for row in positions],
            [row["ctr"] for row in positions],
            title="CTR by result position",
            fmt=charts.percent,
        ),
        "latency_chart": charts.line_chart(
            labels,
            {"p50": [row["p50_ms"] for row in per_day], "p95": [row["p95_ms"] for row in per_day]},
            title="Search latency per day (ms)",
            fmt=charts.milliseconds,
        ),
        "zero_queries": [{**row, "url": shop_text_search_url(row["text"])} for row in stats.zero_result_queries],
        "keeps_thumbnails": settings.SHOPLENS_ANALYTICS_KEEP_THUMBNAILS,
        "gallery": zero_result_photos(days),
        "retention_days": settings.SHOPLENS_ANALYTICS_RETENTION_DAYS,
    }


def zero_result_photos(days: int, *, size: int = GALLERY_SIZE) -> list[SearchEvent]:
    """Recent photo searches that found nothing and whose thumbnail was kept."""
    return list(
        events_since(days)
        .filter(zero_result_condition(relevance_floor()), thumbnail__isnull=False)
        .exclude(photo_sha256s=[])
        .only("search_id", "created_at", "kind", "text", "result_count", "top_match_percent")[:size]
    )


def shop_text_search_url(text: str) -> str:
    """The shop's own text search for ``text``, so staff see what the shopper saw."""
    try:
        return f"{reverse('storefront:catalogue')}?{urlencode({'q': text})}"
    except NoReverseMatch:  # a project without the storefront pages
        return ""


def _calendar(stats: SearchStats) -> tuple[list[str], list[dict[str, Any]]]:
    """Every day of the period, with zeros for days without searches."""
    by_day = {row["day"]: row for row in stats.per_day}
    empty = {"searches": 0, "ctr": 0.0, "zero_result_rate": 0.0, "p50_ms": None, "p95_ms": None}
    days: list[date] = []
    day = stats.since
    while day <= stats.until:
        days.append(day)
        day += timedelta(days=1)
    return [day.strftime("%d %b") for day in days], [by_day.get(day, empty) for day in days]
