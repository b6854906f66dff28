"""From per-signal cosine similarities to one ranked list.

score         = sum over signals s of w_s * cos_s, where cos_s is the product's best image
                (photo signals) or its text vector (text signal), and the weights w_s of the query
                kind are renormalised over the signals that are available. A product without a
                vector in a signal's space contributes 0 for that signal.
match_percent = 100 * sum over s of w_s * clamp((cos_s - low_s) / (high_s - low_s), 0, 1), with
                (low_s, high_s) from SHOPLENS_SEARCH_MATCH_CALIBRATION. Each signal is calibrated on
                its own range (CLIP text-to-image cosines of 0.3 are a strong match, image-to-image
                cosines of 0.3 are not), so for one query kind a given percentage always means the
                same similarities, whatever the query.

Hits are ordered by ``match`` (ties by ``score``): the number a shopper sees is the number that
ranks, so shown percentages never rise down a list. Business boosts are added to ``match``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone


@dataclass
class RankedProduct:
    product_id: int
    score: float = 0.0
    match: float = 0.0  # 0..1
    image_id: int | None = None
    signals: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class BusinessFacts:
    """What business re-ranking and diversity look at."""

    rating: Decimal | None
    stock: int
    created_at: datetime
    category_id: int | None


def renormalised(weights: Mapping[str, float], available: Iterable[str]) -> dict[str, float]:
    chosen = {name: float(weights[name]) for name in available if weights.get(name, 0) > 0}
    total = sum(chosen.values())
    return {name: weight / total for name, weight in chosen.items()} if total > 0 else {}


def combine(
    rows_by_signal: Mapping[str, Sequence[tuple[int, int | None, float]]],
    *,
    weights: Mapping[str, float],
    calibration: Mapping[str, tuple[float, float]],
    image_signals: frozenset[str],
) -> list[RankedProduct]:
    """Score every product seen in ``rows_by_signal`` (``(product_id, image_id, cosine)`` rows)."""
    ranked: dict[int, RankedProduct] = {}
    image_votes: dict[tuple[int, int], float] = defaultdict(float)
    for name, rows in rows_by_signal.items():
        weight = weights[name]
        for product_id, image_id, cosine in rows:
            entry = ranked.setdefault(product_id, RankedProduct(product_id))
            if cosine > entry.signals.get(name, -2.0):
                entry.signals[name] = cosine
            if name in image_signals and image_id is not None:
                image_votes[(product_id, image_id)] += weight * cosine
    best_image: dict[int, tuple[float, int]] = {}
    for (product_id, image_id), vote in image_votes.items():
        if product_id not in best_image or vote > best_image[product_id][0]:
            best_image[product_id] = (vote, image_id)
    for entry in ranked.values():
        entry.score = sum(weights[name] * cosine for name, cosine in entry.signals.items())
        entry.match = sum(
            weights[name] * calibrated(cosine, calibration.get(name, (0.0, 1.0)))
            for name, cosine in entry.signals.items()
        )
        entry.image_id = best_image.get(entry.product_id, (0.0, None))[1]
    return sorted(ranked.values(), key=rank_key)


def rank_key(entry: RankedProduct) -> tuple[float, float, int]:
    """Calibrated match first (what the page shows), raw score and id break ties."""
    return (-entry.match, -entry.score, entry.product_id)


def calibrated(cosine: float, bounds: tuple[float, float]) -> float:
    low, high = bounds
    if high <= low:
        return 1.0 if cosine >= high else 0.0
    return min(1.0, max(0.0, (cosine - low) / (high - low)))


def rerank(
    ranked: list[RankedProduct], facts: Mapping[int, BusinessFacts], *, boosts: Mapping[str, float | bool]
) -> list[RankedProduct]:
    """Add small boosts for rating, stock and newness to the match (and score), then re-sort."""
    recent = timezone.now() - timedelta(days=float(boosts.get("NEWNESS_DAYS", 30)))
    for entry in ranked:
        fact = facts.get(entry.product_id)
        if fact is None:
            continue
        boost = 0.0
        if fact.rating is not None:
            boost += float(boosts.get("RATING", 0)) * float(fact.rating) / 5.0
        if fact.stock > 0:
            boost += float(boosts.get("IN_STOCK", 0))
        if fact.created_at >= recent:
            boost += float(boosts.get("NEWNESS", 0))
        entry.score += boost
        entry.match = min(1.0, entry.match + boost)
    return sorted(ranked, key=rank_key)


def shown_percents(ranked: list[RankedProduct]) -> list[int]:
    """The percentage shown for each hit: its match, capped by every hit above it, so it never
    rises down a list (a no-op when the list is ordered by match; text search orders by fusion)."""
    shown, cap = [], 100
    for entry in ranked:
        cap = min(cap, round(100 * min(1.0, max(0.0, entry.match))))
        shown.append(cap)
    return shown


def diversify(
    ranked: list[RankedProduct], facts: Mapping[int, BusinessFacts], *, per_category: int
) -> list[RankedProduct]:
    """Keep at most ``per_category`` hits of each category, in rank order."""
    seen: dict[int | None, int] = defaultdict(int)
    kept = []
    for entry in ranked:
        fact = facts.get(entry.product_id)
        category = fact.category_id if fact else None
        if category is not None and seen[category] >= per_category:
            continue
        seen[category] += 1
        kept.append(entry)
    return kept
