"""Search latency and recall on a synthetic catalogue, through the selector the API uses.

Queries are photo queries (0.6 CLIP + 0.4 visual) with pre-computed vectors, so encoding is
excluded. Each query vector is a catalogue vector with noise (cosine ~0.89 to its source with the
default noise 0.5): a shopper's photo of something in the shop. ``recall_at_10`` compares the
selector's top 10 with the top 10 of the same selector on its exact path (every product scanned by
every signal), i.e. it measures what the HNSW index (with iterative scan) and taking candidates
from one graph walk (``SHOPLENS_SEARCH_RESCORED_SIGNALS``) lose for the combined score.
``clip_recall_at_10`` and ``clip_p50_ms`` are the same for the CLIP signal alone. The filtered
half restricts to one leaf category (1 % of products).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.test import override_settings

from catalog.criteria import ProductCriteria
from devtools.bench import vectors
from devtools.bench.catalogue import LEAVES_PER_ROOT, ROOT_CATEGORIES
from visualsearch.selectors import active_spaces, search_vectors

LIMIT = 10
BOTH = ("clip", "visual")
SERVER_SETTINGS = (
    "shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem", "max_connections",
    "huge_pages_status", "shared_memory_size_in_huge_pages",
)  # fmt: skip


def measure(
    *, products: int, queries: int, noise: float, seed: int, only: str | None, log: Callable, data: str = "random"
) -> dict:
    rng = np.random.default_rng(seed + 1)
    spaces = active_spaces()
    sources = rng.integers(1, products + 1, size=queries)
    vectors = photo_query_vectors(spaces=spaces, sources=sources, rng=rng, noise=noise, products=products, seed=seed,
                                  data=data)  # fmt: skip
    leaves = rng.integers(ROOT_CATEGORIES + 1, ROOT_CATEGORIES * (LEAVES_PER_ROOT + 1) + 1, size=queries)

    def run(index: int, criteria: ProductCriteria, signals: tuple[str, ...], *, exact: bool = False) -> list[int]:
        query = {name: vectors[name][index] for name in signals}
        if not exact:
            return _ids(search_vectors(vectors=query, kind="image", criteria=criteria, limit=LIMIT, spaces=spaces))
        # The selector's own exact path: a filter that every product passes, under a cap above the catalogue.
        everything = replace(criteria, price_min=criteria.price_min or Decimal(0))
        with override_settings(SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS=products + 1, SHOPLENS_SEARCH_RESCORED_SIGNALS=[]):
            return _ids(search_vectors(vectors=query, kind="image", criteria=everything, limit=LIMIT, spaces=spaces))

    report: dict[str, Any] = {"n_products": products, "n_queries": queries, "limit": LIMIT, "prewarmed": prewarm()}
    for index in range(min(10, queries)):  # warm the caches
        run(index, ProductCriteria(), BOTH)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, current_setting(name) FROM unnest(%s::text[]) name",
            [list(SERVER_SETTINGS)],
        )
        report["server_settings"] = dict(cursor.fetchall())
    halves = [
        ("", lambda i: ProductCriteria()),
        ("filtered_", lambda i: ProductCriteria(category_id=int(leaves[i]))),
    ]
    for prefix, make_criteria in halves:
        if only and only != (prefix.rstrip("_") or "unfiltered"):
            continue
        timings, clip_timings, recalls, clip_recalls, full, hits, exact_hits = [], [], [], [], 0, 0, 0
        for index in range(queries):
            criteria = make_criteria(index)
            started = time.perf_counter()
            found = run(index, criteria, BOTH)
            timings.append((time.perf_counter() - started) * 1000)
            truth = run(index, criteria, BOTH, exact=True)
            recalls.append(_recall(found, truth))
            hits, exact_hits = hits + (int(sources[index]) in found), exact_hits + (int(sources[index]) in truth)
            started = time.perf_counter()
            clip_found = run(index, criteria, ("clip",))
            clip_timings.append((time.perf_counter() - started) * 1000)
            clip_recalls.append(_recall(clip_found, run(index, criteria, ("clip",), exact=True)))
            full += len(found) == LIMIT
        timings.sort()
        report[f"{prefix}p50_ms"] = round(statistics.median(timings), 2)
        report[f"{prefix}p95_ms"] = round(timings[min(len(timings) - 1, int(0.95 * len(timings)))], 2)
        report[f"{prefix}recall_at_10"] = round(statistics.mean(recalls), 4)
        report[f"{prefix}clip_recall_at_10"] = round(statistics.mean(clip_recalls), 4)
        report[f"{prefix}clip_p50_ms"] = round(statistics.median(clip_timings), 2)
        if prefix:
            report["filtered_full_pages"] = round(full / queries, 4)
        else:  # is the product photographed in the top 10 (index path; exact path: the embedding's limit)
            report["source_hit_at_10"] = round(hits / queries, 4)
            report["exact_source_hit_at_10"] = round(exact_hits / queries, 4)
        log(f"{prefix or 'unfiltered '}done")
    if only in (None, "unfiltered"):
        report["new_connection_p50_ms"] = _new_connections(lambda index: run(index, ProductCriteria(), BOTH), queries)
    return report


def _new_connections(search: Callable[[int], Any], queries: int, *, connections_: int = 5, each: int = 20) -> float:
    """p50 of the first ``each`` searches on each of ``connections_`` new database connections:
    what a web worker's first searches cost after it connects (a new backend faults in every
    page of the buffer pool it touches, unless the pool is on huge pages)."""
    timings = []
    for round_ in range(connections_):
        connection.close()
        for index in range(each):
            started = time.perf_counter()
            search((round_ * each + index) % queries)
            timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 2)


def photo_query_vectors(*, spaces: Any, sources: np.ndarray, rng: np.random.Generator, noise: float, products: int,
                        seed: int, data: str) -> dict[str, np.ndarray]:  # fmt: skip
    """The CLIP and visual vectors of one photo query per product of ``sources`` (``BOTH``)."""
    return {name: _queries(data, spaces[(name, "image")], sources, rng, noise, products, seed) for name in BOTH}


def _queries(data: str, space: Any, sources: np.ndarray, rng: np.random.Generator, noise: float, products: int,
             seed: int) -> np.ndarray:  # fmt: skip
    """Query vectors: a second photo of each source product, as the catalogue's data models one."""
    stored = _stored(space.pk, sources)
    if data == "random":
        return _noisy(stored, rng, noise)
    generator = vectors.for_space(
        space.encoder, int(space.dimension), products=products, seed=seed, rotated=bool(space.index_dimension)
    )
    return generator.photos_of(stored, rng)


def _ids(result: Any) -> list[int]:
    return [hit.product.pk for hit in result.hits]


def _recall(found: list[int], truth: list[int]) -> float:
    return len(set(found) & set(truth)) / max(1, len(truth))


def prewarm(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Read the vector tables and their HNSW indexes into the buffers of ``using``'s server
    (pg_prewarm), as on a server that has been answering searches for a while; False when
    pg_prewarm is missing (a standby has it once its primary has)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_prewarm'")
        if not cursor.fetchone()[0]:
            try:
                with transaction.atomic(using=using):
                    cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            except DatabaseError:
                return False
        cursor.execute(
            "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relname IN "
            "('visualsearch_imageembedding', 'visualsearch_producttextembedding', 'catalog_product') "
            "OR c.relname LIKE '%%\\_hnsw\\_%%' ORDER BY c.relname"
        )
        for (relation,) in cursor.fetchall():
            cursor.execute("SELECT pg_prewarm(%s)", [relation])
    return True


def _stored(space_id: int, product_ids: np.ndarray) -> np.ndarray:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT product_id, vector FROM visualsearch_imageembedding WHERE space_id = %s AND product_id = ANY(%s)",
            [space_id, [int(p) for p in set(product_ids.tolist())]],
        )
        by_product = {pid: np.asarray(_parse(vector), dtype=np.float32) for pid, vector in cursor.fetchall()}
    return np.stack([by_product[int(p)] for p in product_ids])


def _parse(vector: Any) -> list[float]:
    if isinstance(vector, str):
        return [float(x) for x in vector.strip("[]").split(",")]
    if hasattr(vector, "to_list"):
        return vector.to_list()
    return list(vector)


def _noisy(vectors: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    jitter = rng.standard_normal(vectors.shape).astype(np.float32)
    jitter /= np.linalg.norm(jitter, axis=1, keepdims=True)
    mixed = vectors + noise * jitter
    return mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
