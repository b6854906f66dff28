"""What the bench catalogue takes on disk, how its HNSW indexes were built, and whether storing
vectors in half precision changes any top 10 (``bench_search`` prints all three)."""

from __future__ import annotations

import numpy as np
from django.db import connection

from devtools.bench import vectors
from visualsearch.models import EmbeddingSpace

PRECISION_SAMPLE = 100_000  # catalogue vectors compared in float32 and float16 (numpy, in memory)


def relation_sizes() -> dict[str, float]:
    """MB on disk of each table with its TOAST and of each index, plus the database's total."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) - pg_indexes_size(c.oid), 'table' FROM pg_class c "
            "WHERE c.relname IN ('visualsearch_imageembedding', 'visualsearch_producttextembedding', "
            "'catalog_product', 'catalog_productimage') "
            "UNION ALL SELECT c.relname, pg_relation_size(c.oid), 'index' FROM pg_class c "
            "JOIN pg_index i ON i.indexrelid = c.oid JOIN pg_class t ON t.oid = i.indrelid "
            "WHERE t.relname IN ('visualsearch_imageembedding', 'visualsearch_producttextembedding')"
        )
        sizes = {f"{kind} {name}": round(size / 2**20, 1) for name, size, kind in cursor.fetchall()}
        cursor.execute("SELECT pg_database_size(current_database())")
        sizes["database"] = round(cursor.fetchone()[0] / 2**20, 1)
    return sizes


def index_parameters() -> dict[str, list[str]]:
    """The build options (m, ef_construction) of each HNSW index."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_am a ON a.oid = c.relam "
            "WHERE a.amname = 'hnsw' ORDER BY c.relname"
        )
        return {name: list(options or []) for name, options in cursor.fetchall()}


def index_dimensions() -> dict[str, int | None]:
    """Each space's ``index_dimension``: the leading components its HNSW index covers (None: all)."""
    return dict(EmbeddingSpace.objects.order_by("pk").values_list("encoder", "index_dimension"))


def half_precision_changes(*, products: int, seed: int, queries: int = 200) -> dict[str, dict[str, int]]:
    """For each photo space of the structured data (first ``PRECISION_SAMPLE`` products), in how
    many of ``queries`` second-photo queries the exact top 10 differs between float32 vectors and
    their float16 copies (the query kept in float32 or rounded too): as a set, and in order."""
    n = min(products, PRECISION_SAMPLE)
    report: dict[str, dict[str, int]] = {}
    for encoder, dimension in (("clip", 512), ("visual", 1308)):
        generator = vectors.for_space(encoder, dimension, products=products, seed=seed)
        stored = np.concatenate(
            [generator.vectors(np.arange(start, min(n + 1, start + 5000))) for start in range(1, n + 1, 5000)]
        )
        rng = np.random.default_rng(seed + 7)
        photos = generator.photos_of(stored[rng.integers(0, n, size=queries)], rng)
        truth = _top10(stored, photos)
        half = stored.astype(np.float16).astype(np.float32)
        report[encoder] = {"queries": queries}
        rounded = photos.astype(np.float16).astype(np.float32)
        for label, query in (("float32_query", photos), ("float16_query", rounded)):
            pairs = list(zip(truth, _top10(half, query), strict=True))
            report[encoder][f"{label}_sets_changed"] = sum(set(a) != set(b) for a, b in pairs)
            report[encoder][f"{label}_orders_changed"] = sum(bool((a != b).any()) for a, b in pairs)
    return report


def _top10(stored: np.ndarray, queries: np.ndarray) -> np.ndarray:
    scores = queries @ stored.T
    top = np.argpartition(-scores, 10, axis=1)[:, :10]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
    return np.take_along_axis(top, order, axis=1)
