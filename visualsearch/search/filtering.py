"""The shopper's criteria as SQL over ``catalog_product p`` (and a vector row's copy of the
category), and whether so few products pass them that scanning them all beats the index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

    from catalog.criteria import ProductCriteria


@dataclass(frozen=True)
class ProductFilterSql:
    """A WHERE fragment over ``catalog_product p`` and its parameters; ``vector_where``, the
    category condition on a vector row ``e``'s copy of the category (``visualsearch.models``)."""

    where: str
    params: list[Any]
    selective: bool  # narrower than "active products"
    vector_where: str = ""
    vector_params: list[Any] = field(default_factory=list)


def product_filter_sql(filters: ProductCriteria, *, exclude_product_ids: Sequence[int] = ()) -> ProductFilterSql:
    clauses: list[str] = []
    params: list[Any] = []
    vector_where = ""
    if filters.active_only:
        clauses.append("p.is_active")
    if filters.category_id is not None:
        # The category and its sub-tree: one range over Category.path.
        subtree = (
            "(SELECT d.id FROM catalog_category d JOIN catalog_category r "
            "ON starts_with(d.path, r.path) WHERE r.id = %s)"
        )
        clauses.append(f"p.category_id IN {subtree}")
        params.append(filters.category_id)
        vector_where = f"e.product_category_id IN {subtree}"
    if filters.brand_ids:
        clauses.append("p.brand_id = ANY(%s)")
        params.append(list(filters.brand_ids))
    if filters.price_min is not None:
        clauses.append("p.price >= %s")
        params.append(filters.price_min)
    if filters.price_max is not None:
        clauses.append("p.price <= %s")
        params.append(filters.price_max)
    if filters.in_stock:
        clauses.append("p.stock > 0")
    selective = len(clauses) > int(filters.active_only)
    if exclude_product_ids:
        clauses.append("p.id <> ALL(%s)")
        params.append(list(exclude_product_ids))
    return ProductFilterSql(
        where=" AND ".join(clauses) or "TRUE", params=params, selective=selective, vector_where=vector_where,
        vector_params=[filters.category_id] if vector_where else [],
    )  # fmt: skip


def exact_scan_fits(cursor: CursorWrapper, product_filter: ProductFilterSql, *, floor: int, share: float) -> bool:
    """Whether at most ``max(floor, share x catalogue)`` products pass the filter, counting no
    further; the catalogue's size is the planner's estimate (``pg_class.reltuples``), not a count."""
    cursor.execute(
        "WITH cap AS (SELECT greatest(%s::bigint, floor(%s * greatest(c.reltuples, 0))::bigint) AS n "
        "FROM pg_class c WHERE c.oid = 'catalog_product'::regclass) "
        f"SELECT count(*) <= (SELECT n FROM cap) FROM (SELECT 1 FROM catalog_product p "
        f"WHERE {product_filter.where} LIMIT (SELECT n FROM cap) + 1) s",
        [floor, share, *product_filter.params],
    )
    return bool(cursor.fetchone()[0])
