"""``ProductCriteria``: what a shopper narrowed a listing or a search to."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class ProductCriteria:
    """Every field is optional and they combine; the search selector turns them into SQL and
    ``catalog.filters.ProductFilter`` builds them from request parameters."""

    category_id: int | None = None  # includes sub-categories
    brand_ids: tuple[int, ...] = ()
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    in_stock: bool = False
    active_only: bool = True
