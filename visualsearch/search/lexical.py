"""Lexical signals of a text query: PostgreSQL full-text search, trigram similarity, exact SKU.

Vectors miss what has no meaning to a language model: a SKU, a model number, a misspelt brand.
Three signals catch those, each from an index over ``catalog_product`` (migration
``visualsearch.0005``), so they stay fresh with every product write and need no indexing task:

- ``fulltext``: the share of the query's words (English stems, OR-ed) found in the product's
  document: SKU and name (weight A), brand and category (B), description and attributes (C);
  ties broken by ``ts_rank_cd``. The document's GIN index is over ``PRODUCT_DOCUMENT``; brand and
  category names are matched against their own small tables and joined by id.
- ``trigram``: ``word_similarity`` of the query to "SKU name" (pg_trgm, GIN trigram index):
  misspellings and partial SKUs.
- ``sku``: the query is a product's SKU, whatever the case (an index over ``upper(sku)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

    from visualsearch.search.filtering import ProductFilterSql

# The indexed expressions; migration 0005 builds the GIN indexes over exactly these.
PRODUCT_DOCUMENT = (
    "(setweight(to_tsvector('english'::regconfig, (p.sku::text || ' ' || p.name::text)), 'A') || "
    "setweight(to_tsvector('english'::regconfig, (p.description || ' ' || p.attributes::text)), 'C'))"
)
PRODUCT_TRIGRAM_TEXT = "(p.sku::text || ' ' || p.name::text)"


@dataclass(frozen=True)
class LexicalMatches:
    """Products each lexical signal found, best first: ``[(product_id, value 0..1)]``."""

    fulltext: list[tuple[int, float]]
    trigram: list[tuple[int, float]]
    sku: list[int]

    @property
    def product_ids(self) -> set[int]:
        return {pid for pid, _ in self.fulltext} | {pid for pid, _ in self.trigram} | set(self.sku)


def lexical_matches(
    cursor: CursorWrapper, text: str, product_filter: ProductFilterSql, *, k: int, trigram_threshold: float
) -> LexicalMatches:
    """Up to ``k`` products per signal that pass the filter (inside the caller's transaction)."""
    cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [str(trigram_threshold)])
    where, params = product_filter.where, product_filter.params
    brand_document = "setweight(to_tsvector('english'::regconfig, coalesce(b.name, '')), 'B')"
    category_document = "setweight(to_tsvector('english'::regconfig, coalesce(c.name, '')), 'B')"
    statement = f"""
        WITH q AS (
            SELECT replace(plainto_tsquery('english', %s)::text, ' & ', ' | ')::tsquery AS tsq,
                   ARRAY(SELECT lexeme FROM unnest(to_tsvector('english', %s))) AS words
        ),
        found AS (
            SELECT p.id FROM catalog_product p, q WHERE {PRODUCT_DOCUMENT} @@ q.tsq AND {where}
            UNION SELECT p.id FROM catalog_product p JOIN catalog_brand b ON b.id = p.brand_id, q
                WHERE to_tsvector('english'::regconfig, b.name) @@ q.tsq AND {where}
            UNION SELECT p.id FROM catalog_product p JOIN catalog_category c ON c.id = p.category_id, q
                WHERE to_tsvector('english'::regconfig, c.name) @@ q.tsq AND {where}
        ),
        documents AS (
            SELECT p.id, {PRODUCT_DOCUMENT} || {brand_document} || {category_document} AS document
            FROM found JOIN catalog_product p ON p.id = found.id
            LEFT JOIN catalog_brand b ON b.id = p.brand_id LEFT JOIN catalog_category c ON c.id = p.category_id
        ),
        fulltext AS (
            SELECT d.id,
                   cardinality(ARRAY(SELECT unnest(q.words) INTERSECT SELECT unnest(tsvector_to_array(d.document))))
                       ::float8 / greatest(cardinality(q.words), 1) AS coverage,
                   ts_rank_cd(d.document, q.tsq, 32) AS rank
            FROM documents d, q ORDER BY coverage DESC, rank DESC, d.id LIMIT %s
        ),
        trigram AS (
            SELECT p.id, word_similarity(%s, {PRODUCT_TRIGRAM_TEXT}) AS similarity FROM catalog_product p
            WHERE %s <%% {PRODUCT_TRIGRAM_TEXT} AND {where} ORDER BY similarity DESC, p.id LIMIT %s
        )
        SELECT 'fulltext', id, coverage, rank FROM fulltext
        UNION ALL SELECT 'trigram', id, similarity, 0 FROM trigram
        UNION ALL SELECT 'sku', p.id, 1, 0 FROM catalog_product p WHERE upper(p.sku::text) = upper(%s) AND {where}
    """
    cursor.execute(
        statement,
        [text, text, *params, *params, *params, k, text, text, *params, k, text, *params],
    )
    rows: dict[str, list[tuple[int, float, float]]] = {"fulltext": [], "trigram": [], "sku": []}
    for signal, product_id, value, rank in cursor.fetchall():
        rows[signal].append((int(product_id), float(value), float(rank)))
    order = {name: sorted(found, key=lambda r: (-r[1], -r[2], r[0])) for name, found in rows.items()}
    return LexicalMatches(
        fulltext=[(pid, value) for pid, value, _ in order["fulltext"]],
        trigram=[(pid, value) for pid, value, _ in order["trigram"]],
        sku=[pid for pid, _, _ in order["sku"]],
    )


def product_texts(cursor: CursorWrapper, product_ids: Sequence[int]) -> dict[int, str]:
    """Name, description and attribute values of each product, lower-cased (for colour words)."""
    cursor.execute(
        "SELECT p.id, lower(p.name || ' ' || p.description || ' ' || "
        "coalesce((SELECT string_agg(value, ' ') FROM jsonb_each_text("
        "CASE WHEN jsonb_typeof(p.attributes) = 'object' THEN p.attributes ELSE '{}'::jsonb END)), '')) "
        "FROM catalog_product p WHERE p.id = ANY(%s)",
        [list(product_ids)],
    )
    return {int(pid): str(text) for pid, text in cursor.fetchall()}
