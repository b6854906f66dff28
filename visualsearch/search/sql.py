"""SQL against each embedding space's partial HNSW index, joined to the shopper's filters.

Vectors are stored in half precision (``halfvec``, migration 0006) and each space's index is over
them cast to the space's width (``visualsearch.spaces``). A nearest-neighbour query orders by the
exact expression of the index (``vector::halfvec(<dim>) <=> q ... WHERE space_id = <literal>``)
so PostgreSQL can use it; every distance is that same expression, computed in float32 from the
half-precision values (no top 10 of ``bench_search`` changes against full precision). A space
indexed over its leading components only (``EmbeddingSpace.index_dimension``) is walked by their
distance, and what the walk finds is scored on the whole vector.
Filters are applied during the index scan; pgvector 0.8's iterative scan keeps reading the
graph until ``LIMIT`` rows pass them. A filter that matches few products is answered by an
exact scan of just those products instead (the ``+ 0`` keeps the planner off the index).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from visualsearch.models import ImageEmbedding, ProductTextEmbedding, indexed_vector_sql

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

    from visualsearch.search.filtering import ProductFilterSql


@dataclass(frozen=True)
class Signal:
    """One similarity to compute: a query vector against one active embedding space."""

    name: str  # clip, visual, clip_text or text
    space_id: int
    dimension: int
    modality: str  # "image": photo vectors, "text": product-text vectors
    vector: np.ndarray
    index_dimension: int | None = None  # the space's index covers the leading components only

    @property
    def prefixed(self) -> bool:
        return bool(self.index_dimension) and int(self.index_dimension or 0) < self.dimension

    @property
    def table(self) -> str:
        model = ImageEmbedding if self.modality == "image" else ProductTextEmbedding
        return model._meta.db_table

    @cached_property  # formatted once per query, used in several statements
    def sql_vector(self) -> str:
        return "[" + ",".join(f"{x:.7g}" for x in self.vector.tolist()) + "]"


def index_scan_settings_sql(*, ef_search: int, iterative_scan: str, max_scan_tuples: int) -> tuple[str, list[str]]:
    """HNSW settings for the current transaction only (``set_config(..., is_local => true)``).

    Memoize is turned off too: the planner sizes a Memoize node's hash table for the products
    the whole index could return (it cannot see the ``LIMIT`` through the iterative scan), and
    at 1 000 000 products building that table took about 30 ms of a 40 ms CLIP walk joined to
    ``catalog_product`` (EXPLAIN ANALYZE; 8 ms without it), once per signal. The join reads
    one product row per vector, which a cache cannot save."""
    return (
        "SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan', %s, true), "
        "set_config('hnsw.max_scan_tuples', %s, true), set_config('enable_memoize', 'off', true)",
        [str(ef_search), iterative_scan, str(max_scan_tuples)],
    )


def nearest_products(
    cursor: CursorWrapper,
    signals: Sequence[Signal],
    product_filter: ProductFilterSql,
    *,
    k: int,
    exact: bool,
    prelude: tuple[str, list[Any]] | None = None,
) -> dict[str, tuple[list[tuple[int, int | None, float]], int]]:
    """For each signal, the ``k`` nearest vectors that pass the filter, reduced to each product's
    best one: ``{signal: ([(product_id, image_id, distance)], vectors read)}``. The vectors read
    tell the caller whether asking again with a larger ``k`` could find more products.

    All signals go in one statement (one round trip), after the optional ``prelude`` statement.
    """
    ctes, params = _nearest_ctes(signals, product_filter, k=k, exact=exact)
    selects = [
        f"SELECT {index}, product_id, image_id, distance, (SELECT count(*) FROM nn{index}) "
        f"FROM (SELECT DISTINCT ON (product_id) * FROM nn{index} ORDER BY product_id, distance) best{index}"
        for index in range(len(signals))
    ]
    _execute(cursor, "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(selects), params, prelude)
    found: dict[str, tuple[list[tuple[int, int | None, float]], int]] = {s.name: ([], 0) for s in signals}
    for index, product_id, image_id, distance, read in cursor.fetchall():
        rows, _ = found[signals[index].name]
        rows.append((product_id, image_id, float(distance)))
        found[signals[index].name] = (rows, int(read))
    return found


@dataclass(frozen=True)
class Scored:
    """Every vector of the candidate products, scored by every signal, and what each signal's
    nearest-neighbour scan found: ``{signal: (distinct products, vectors read)}``."""

    similarities: dict[str, list[tuple[int, int | None, float]]]
    found: dict[str, tuple[int, int]]


def nearest_and_scored(
    cursor: CursorWrapper,
    signals: Sequence[Signal],
    product_filter: ProductFilterSql,
    *,
    k: int,
    exact: bool,
    prelude: tuple[str, list[Any]] | None = None,
    walking: Sequence[Signal] | None = None,
) -> Scored:
    """``nearest_products`` for each ``walking`` signal (default: every signal), then
    ``similarities`` by every signal of the union of the products they found, in one statement:
    one round trip and one plan instead of two. A signal that does not walk its index is only
    scored on the others' candidates (one graph walk per photo query)."""
    walking = list(signals if walking is None else walking)
    ctes, params = _nearest_ctes(walking, product_filter, k=k, exact=exact, queries=signals)
    union = " UNION ".join(f"SELECT product_id FROM nn{index}" for index in range(len(walking)))
    ctes.append(f"candidates AS MATERIALIZED ({union})")
    selects = [
        f"SELECT {-1 - index}, count(DISTINCT product_id), count(*), NULL::float8 FROM nn{index}"
        for index in range(len(walking))
    ]
    for index, signal in enumerate(signals):
        image_column = "e.image_id" if signal.modality == "image" else "NULL::bigint"
        selects.append(
            f"SELECT {index}, e.product_id, {image_column}, 1 - ({distance_sql(signal)}) "
            f"FROM {signal.table} e WHERE e.space_id = {int(signal.space_id)} "
            f"AND e.product_id IN (SELECT product_id FROM candidates)"
        )
    _execute(cursor, "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(selects), params, prelude)
    similarities: dict[str, list[tuple[int, int | None, float]]] = {signal.name: [] for signal in signals}
    found: dict[str, tuple[int, int]] = {}
    for index, first, second, similarity in cursor.fetchall():
        if index < 0:
            found[walking[-1 - index].name] = (int(first), int(second))
        else:
            similarities[signals[index].name].append((first, second, float(similarity)))
    return Scored(similarities=similarities, found=found)


def _nearest_ctes(
    signals: Sequence[Signal],
    product_filter: ProductFilterSql,
    *,
    k: int,
    exact: bool,
    queries: Sequence[Signal] | None = None,
) -> tuple[list[str], list[Any]]:
    """``nn<i>``: the ``k`` nearest vectors of signal ``i`` that pass the filter, after the
    query vectors of ``queries`` (default: ``signals``; see ``query_ctes``)."""
    ctes, params = query_ctes(signals if queries is None else queries)
    if exact:
        # The filter's products found once (``fp``) for every signal; a category's vectors read
        # through the (space, category) index; ``+ 0`` keeps the planner off the HNSW index. A 1 %
        # filter, alternating query by query (same pages): 18.46 ms at 100 000 products, 54.73 at
        # 1 000 000, against 25.48 and 106.65 ms before (README).
        ctes.append(f"fp AS MATERIALIZED (SELECT p.id FROM catalog_product p WHERE {product_filter.where})")
        params += product_filter.params
        vector_where = f" AND {product_filter.vector_where}" if product_filter.vector_where else ""
        join, where, each = "", f"{vector_where} AND e.product_id IN (SELECT id FROM fp)", product_filter.vector_params
    else:
        join, where = " JOIN catalog_product p ON p.id = e.product_id", f" AND {product_filter.where}"
        each = product_filter.params
    for index, signal in enumerate(signals):
        distance = distance_sql(signal)
        order = f"({distance}) + 0" if exact else index_distance_sql(signal)
        image_column = "e.image_id" if signal.modality == "image" else "NULL::bigint"
        ctes.append(
            f"nn{index} AS MATERIALIZED (SELECT e.product_id, {image_column} AS image_id, {distance} AS distance "
            f"FROM {signal.table} e{join} WHERE e.space_id = {int(signal.space_id)}{where} ORDER BY {order} LIMIT %s)"
        )
        params += [*each, k]
    return ctes, params


def query_ctes(signals: Sequence[Signal]) -> tuple[list[str], list[Any]]:
    """``q_<signal>``: each signal's query vector, sent once per statement however often the
    statement uses it. A vector is about 15 kB of text; sent once instead of three times, the
    search statement took 8.0 ms instead of 9.6 ms (p50 of 150 queries, 100 000 products)."""
    ctes = [f"q_{_name(signal)} AS (SELECT %s::halfvec({int(signal.dimension)}) AS v)" for signal in signals]
    ctes += [  # the leading components, for a space indexed over them (qi_<signal>)
        f"qi_{signal.name} AS (SELECT {indexed_vector_sql('v', signal.dimension, signal.index_dimension)} AS v "
        f"FROM q_{signal.name})"
        for signal in signals
        if signal.prefixed
    ]
    return ctes, [signal.sql_vector for signal in signals]


def distance_sql(signal: Signal) -> str:
    """Cosine distance of a row ``e`` to the signal's query vector (``q_<signal>``, from
    ``query_ctes``): the expression of the space's HNSW index, so that ordering by it can use the
    index (the query vector is an InitPlan parameter of the scan)."""
    return f"e.vector::halfvec({int(signal.dimension)}) <=> (SELECT v FROM q_{_name(signal)})"


def index_distance_sql(signal: Signal) -> str:
    """What a nearest-neighbour scan orders by: ``distance_sql``, or for a space indexed over its
    leading components their distance (candidates; every score is ``distance_sql``'s)."""
    if not signal.prefixed:
        return distance_sql(signal)
    vector = indexed_vector_sql("e.vector", signal.dimension, signal.index_dimension)
    return f"{vector} <=> (SELECT v FROM qi_{_name(signal)})"


def _name(signal: Signal) -> str:
    if not signal.name.isidentifier():
        raise ValueError(f"signal name {signal.name!r} is not an SQL identifier")
    return signal.name


def _execute(cursor: CursorWrapper, statement: str, params: list[Any], prelude: tuple[str, list[Any]] | None) -> None:
    """Run ``statement``, after ``prelude`` in the same round trip when there is one."""
    if prelude is None:
        cursor.execute(statement, params)
        return
    cursor.execute(f"{prelude[0]}; {statement}", [*prelude[1], *params])
    cursor.nextset()


def similarities(
    cursor: CursorWrapper, signals: Sequence[Signal], product_ids: Sequence[int]
) -> dict[str, list[tuple[int, int | None, float]]]:
    """Exact cosine similarity of every vector of ``product_ids`` in each signal's space (one statement)."""
    ctes, params = query_ctes(signals)
    selects: list[str] = []
    for index, signal in enumerate(signals):
        image_column = "e.image_id" if signal.modality == "image" else "NULL::bigint"
        selects.append(
            f"SELECT {index}, e.product_id, {image_column}, 1 - ({distance_sql(signal)}) "
            f"FROM {signal.table} e WHERE e.space_id = {int(signal.space_id)} AND e.product_id = ANY(%s)"
        )
        params.append(list(product_ids))
    cursor.execute("WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(selects), params)
    rows: dict[str, list[tuple[int, int | None, float]]] = {signal.name: [] for signal in signals}
    for index, product_id, image_id, similarity in cursor.fetchall():
        rows[signals[index].name].append((product_id, image_id, float(similarity)))
    return rows
