"""Search quality on labelled queries: recall@1/5/10 and MRR, overall and per query kind.

Each query goes through ``search_products``, the same path as the shop's pages and API, so the
figures measure what shoppers get (weights, filters and all).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from catalog.criteria import ProductCriteria
from catalog.imaging import ImageRejected
from visualsearch.search.types import SearchQuery
from visualsearch.selectors import search_products

IMAGE, TEXT = "image", "text"
CUTOFFS = (1, 5, 10)
# A product-disjoint split, fixed by the SKU: anything fitted (a whitening, a fusion weight) is
# fitted on "validation" products and reported on "test" products only.
SPLITS = ("all", "validation", "test")


class LabelsError(ValueError):
    """The labels file cannot be used; ``str(exc)`` says why."""


@dataclass(frozen=True)
class LabelledQuery:
    query: str  # an image path (resolved) or a text
    expected_sku: str
    kind: str  # IMAGE or TEXT
    group: str = ""  # optional ``group`` column, e.g. name, colour+type, sku, misspelt


@dataclass(frozen=True)
class QueryOutcome:
    labelled: LabelledQuery
    rank: int | None  # 1-based rank of the expected product; None when not in the results
    error: str = ""
    above_floor: bool = False  # the expected product is a match (at or above the relevance floor)
    no_match: bool = False  # no result reached the floor ("No close match")


@dataclass(frozen=True)
class Metrics:
    queries: int
    recall: dict[int, float]  # cutoff -> share of queries with the expected product in the top k
    mrr: float  # mean reciprocal rank over the top max(CUTOFFS); 0 for a miss
    above_floor: float = 0.0  # share of queries whose expected product is shown as a match
    no_match: float = 0.0  # share of queries where nothing reached the relevance floor

    @classmethod
    def of(cls, outcomes: Sequence[QueryOutcome]) -> Metrics:
        count = len(outcomes)
        ranks = [o.rank for o in outcomes]
        recall = {k: _share(sum(1 for r in ranks if r is not None and r <= k), count) for k in CUTOFFS}
        reciprocal = sum(1 / r for r in ranks if r is not None and r <= max(CUTOFFS))
        return cls(
            queries=count,
            recall=recall,
            mrr=_share(reciprocal, count),
            above_floor=_share(sum(o.above_floor for o in outcomes), count),
            no_match=_share(sum(o.no_match for o in outcomes), count),
        )

    def as_dict(self) -> dict[str, float | int]:
        recall = {f"recall@{k}": v for k, v in self.recall.items()}
        return {"queries": self.queries, **recall, "mrr": self.mrr, "above_floor": self.above_floor,
                "no_match": self.no_match}  # fmt: skip


@dataclass(frozen=True)
class EvaluationReport:
    outcomes: list[QueryOutcome]
    overall: Metrics
    by_kind: dict[str, Metrics]  # per kind, and per "kind/group" where the labels name groups
    encoders: tuple[str, ...] = ()
    worst: list[QueryOutcome] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "overall": self.overall.as_dict(),
            "by_kind": {kind: metrics.as_dict() for kind, metrics in self.by_kind.items()},
            "encoders": list(self.encoders),
            "worst": [_outcome_dict(o) for o in self.worst],
        }


def read_labels(path: Path, *, kind: str | None = None, images_root: Path | None = None) -> list[LabelledQuery]:
    """Rows ``query,expected_sku[,kind]``. Without a kind (column or ``kind``), a query naming an
    existing file (relative to ``images_root``, else to the labels file's folder) is an image."""
    base = images_root or path.resolve().parent
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise LabelsError(f"Cannot open {path}: {exc.strerror}") from exc
    labelled = []
    with handle:
        reader = csv.DictReader(handle)
        if not {"query", "expected_sku"} <= set(reader.fieldnames or []):
            raise LabelsError(f"{path.name} needs a header with query and expected_sku columns.")
        for row in reader:
            query, sku = (row.get("query") or "").strip(), (row.get("expected_sku") or "").strip()
            if not query or not sku:
                raise LabelsError(f"{path.name} line {reader.line_num}: query and expected_sku are required.")
            candidate = Path(query) if Path(query).is_absolute() else base / query
            row_kind = kind or (row.get("kind") or "").strip().lower() or (IMAGE if candidate.is_file() else TEXT)
            if row_kind not in {IMAGE, TEXT}:
                raise LabelsError(f"{path.name} line {reader.line_num}: kind must be image or text.")
            group = (row.get("group") or "").strip()
            labelled.append(LabelledQuery(str(candidate) if row_kind == IMAGE else query, sku, row_kind, group))
    return labelled


def evaluate(
    queries: Iterable[LabelledQuery], *, criteria: ProductCriteria | None = None, worst: int = 5
) -> EvaluationReport:
    """Run every query through the search selector and score where the expected product lands."""
    criteria = criteria or ProductCriteria(active_only=False)
    limit = min(50, int(getattr(settings, "SHOPLENS_SEARCH_MAX_LIMIT", 50)))  # deeper than 10: ranks of misses
    outcomes: list[QueryOutcome] = []
    encoders: set[str] = set()
    for labelled in queries:
        try:
            result = search_products(query=_search_query(labelled), criteria=criteria, limit=limit)
        except (OSError, ImageRejected, ValueError) as exc:  # EmptyQuery is a ValueError
            outcomes.append(QueryOutcome(labelled, None, error=str(exc) or type(exc).__name__))
            continue
        encoders.update(result.encoders)
        skus = [hit.product.sku for hit in result.hits]
        rank = skus.index(labelled.expected_sku) + 1 if labelled.expected_sku in skus else None
        matched = rank is not None and not result.hits[rank - 1].below_floor
        outcomes.append(QueryOutcome(labelled, rank, above_floor=matched, no_match=not result.matches))
    kinds = sorted({o.labelled.kind for o in outcomes} | {_kind_group(o.labelled) for o in outcomes})
    ordered = sorted(outcomes, key=lambda o: (o.rank is not None, -(o.rank or 0)))
    return EvaluationReport(
        outcomes=outcomes,
        overall=Metrics.of(outcomes),
        by_kind={
            kind: Metrics.of([o for o in outcomes if kind in (o.labelled.kind, _kind_group(o.labelled))])
            for kind in kinds
        },
        encoders=tuple(sorted(encoders)),
        worst=[o for o in ordered if o.rank != 1][:worst],
    )


def product_split(sku: str) -> str:
    """``validation`` or ``test``: half of the products each, the same on every machine and run."""
    return "validation" if hashlib.sha256(sku.encode()).digest()[0] % 2 == 0 else "test"


def in_split(sku: str, split: str) -> bool:
    return split == "all" or product_split(sku) == split


def _kind_group(labelled: LabelledQuery) -> str:
    return f"{labelled.kind}/{labelled.group}" if labelled.group else labelled.kind


def _outcome_dict(outcome: QueryOutcome) -> dict[str, object]:
    labelled = outcome.labelled
    return {
        "query": labelled.query,
        "kind": labelled.kind,
        "expected_sku": labelled.expected_sku,
        "rank": outcome.rank,
        "error": outcome.error,
    }


def _search_query(labelled: LabelledQuery) -> SearchQuery:
    if labelled.kind == IMAGE:
        return SearchQuery(images=(Path(labelled.query).read_bytes(),))
    return SearchQuery(text=labelled.query)


def _share(part: float, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0
