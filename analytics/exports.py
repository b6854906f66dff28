"""Events out of the shop: a CSV of searches for offline analysis, and a labels file for
``eval_search`` built from what shoppers clicked (query -> clicked SKU)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Lower, Trim

from analytics.models import InteractionType, ResultInteraction, SearchEvent
from analytics.selectors import events_since
from catalog.models import Product

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

EVENT_COLUMNS = (
    "search_id", "created_at", "kind", "channel", "text", "photo_sha256s", "negative_photo_sha256s",
    "query_product_id", "criteria", "limit", "result_count", "top_score", "top_match_percent", "category_id",
    "encode_ms", "search_ms", "load_ms", "total_ms", "encoders", "session_hash", "results",
)  # fmt: skip
LABEL_COLUMNS = ("query", "expected_sku", "kind", "clicks")


def write_events_csv(out: SupportsWrite[str], *, days: int) -> int:
    """One row per search (lists and objects as JSON) plus its click count; returns the rows written."""
    clicks = (
        ResultInteraction.objects.filter(event=OuterRef("pk"), type=InteractionType.CLICK)
        .order_by()
        .values("event")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = events_since(days).annotate(clicks=Subquery(clicks)).order_by("created_at").values(*EVENT_COLUMNS, "clicks")
    writer = csv.writer(out)
    writer.writerow([*EVENT_COLUMNS, "clicks"])
    written = 0
    for row in rows.iterator(chunk_size=2000):
        writer.writerow([_cell(row[name]) for name in (*EVENT_COLUMNS, "clicks")])
        written += 1
    return written


def click_labels(
    *, days: int, min_clicks: int = 1, images_dir: Path | None = None
) -> Iterator[tuple[str, str, str, int]]:
    """(query, clicked SKU, kind, clicks) for text searches, and for photo searches whose
    thumbnail was kept when ``images_dir`` is given (the thumbnail is written there as the query)."""
    clicked = ResultInteraction.objects.filter(event__in=events_since(days).values("pk"), type=InteractionType.CLICK)
    sku = Subquery(Product.objects.filter(pk=OuterRef("product_id")).values("sku")[:1])
    text_rows = (
        clicked.filter(event__kind="text")
        .annotate(query=Lower(Trim("event__text")), sku=sku)
        .values("query", "sku")
        .annotate(clicks=Count("pk"))
        .filter(clicks__gte=min_clicks, sku__isnull=False)
        .order_by("-clicks", "query", "sku")
    )
    for row in text_rows:
        yield row["query"], row["sku"], "text", row["clicks"]
    if images_dir is None:
        return
    images_dir.mkdir(parents=True, exist_ok=True)
    photo_rows = (
        clicked.filter(event__kind="image", event__thumbnail__isnull=False)
        .annotate(sku=sku)
        .values("event_id", "sku")
        .annotate(clicks=Count("pk"))
        .filter(clicks__gte=min_clicks, sku__isnull=False)
        .order_by("-clicks", "event_id", "sku")
    )
    for photo_row in photo_rows:
        hashes, thumbnail = SearchEvent.objects.values_list("photo_sha256s", "thumbnail").get(pk=photo_row["event_id"])
        path = images_dir / f"{hashes[0]}.jpg"
        if not path.exists():
            path.write_bytes(bytes(thumbnail or b""))
        yield str(path), photo_row["sku"], "image", photo_row["clicks"]


def write_labels_csv(out: SupportsWrite[str], labels: Iterator[tuple[str, str, str, int]]) -> int:
    writer = csv.writer(out)
    writer.writerow(LABEL_COLUMNS)
    written = 0
    for label in labels:
        writer.writerow(label)
        written += 1
    return written


def _cell(value: object) -> object:
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else value
