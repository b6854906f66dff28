"""Search latency and recall on a synthetic catalogue, through the selector the API uses.

    python manage.py bench_search --products 100000 --queries 200 --json

Queries are photo queries (0.6 CLIP + 0.4 visual) with pre-computed vectors, so encoding is
excluded. Each query vector is a catalogue vector with noise (cosine ~0.89 to its source with the
default --noise 0.5): a shopper's photo of something in the shop. ``recall_at_10`` compares the
selector's top 10 with the top 10 of the same selector forced to exact scans, i.e. it measures
what the HNSW index (with iterative scan) loses for the combined score. ``clip_recall_at_10`` and
``clip_p50_ms`` are the same for the
CLIP signal alone. The filtered run restricts to one leaf category (1 % of products).
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections
from django.test import override_settings

from visualsearch.search import bench_catalogue
from visualsearch.search.bench_catalogue import LEAVES_PER_ROOT, ROOT_CATEGORIES, SpaceSpec
from visualsearch.selectors import SearchFilters, active_spaces, search_vectors

LIMIT = 10


class Command(BaseCommand):
    help = "Benchmark search_vectors on a synthetic catalogue kept in the <db>_bench database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=100_000)
        parser.add_argument("--queries", type=int, default=200)
        parser.add_argument("--json", action="store_true", help="print one JSON object only")
        parser.add_argument("--rebuild", action="store_true", help="rebuild the catalogue even if it exists")
        parser.add_argument("--visual-dim", type=int, default=1308, help="visual encoder width (1280 CNN + 28 colour)")
        parser.add_argument("--ef-search", type=int, default=None)
        parser.add_argument("--max-scan-tuples", type=int, default=None)
        parser.add_argument("--exact-max-products", type=int, default=None)
        parser.add_argument("--candidates", type=int, default=None)
        parser.add_argument("--noise", type=float, default=0.5, help="query noise relative to a unit vector")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--vector-storage", choices=["default", "external", "plain"], default="default",
            help="default: the schema's (vectors inline, STORAGE MAIN); external: pgvector's default, in TOAST",
        )  # fmt: skip
        parser.add_argument(
            "--maintenance-work-mem", default="1500MB", help="for building the HNSW indexes (e.g. 8GB for 1M products)"
        )
        parser.add_argument("--only", choices=["unfiltered", "filtered"], default=None, help="run one half only")

    def handle(self, *args: Any, **options: Any) -> None:
        specs = [
            SpaceSpec("clip", "image", 512),
            SpaceSpec("visual", "image", options["visual_dim"]),
            SpaceSpec("text", "text", 384),
        ]
        alias = bench_catalogue.bench_database()
        build_seconds = None
        storage = options["vector_storage"]
        if options["rebuild"] or bench_catalogue.catalogue_size(alias, specs, storage=storage) != options["products"]:
            self._log(options, f"Building {options['products']} products in {connections[alias].settings_dict['NAME']}")
            started = time.perf_counter()
            bench_catalogue.build_catalogue(
                alias,
                products=options["products"],
                specs=specs,
                seed=options["seed"],
                storage=storage,
                maintenance_work_mem=options["maintenance_work_mem"],
            )
            build_seconds = round(time.perf_counter() - started, 1)
        overrides = {
            name: options[key]
            for key, name in [
                ("ef_search", "SHOPLENS_SEARCH_EF_SEARCH"),
                ("max_scan_tuples", "SHOPLENS_SEARCH_MAX_SCAN_TUPLES"),
                ("exact_max_products", "SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS"),
                ("candidates", "SHOPLENS_SEARCH_CANDIDATES"),
            ]
            if options[key] is not None
        }
        with override_settings(DEBUG=False, **overrides):  # as in production: no query log
            report = self._run(alias, options)
        report["build_seconds"] = build_seconds
        report["settings"] = {
            name: getattr(settings, name)
            for name in (
                "SHOPLENS_SEARCH_EF_SEARCH",
                "SHOPLENS_SEARCH_ITERATIVE_SCAN",
                "SHOPLENS_SEARCH_MAX_SCAN_TUPLES",
                "SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS",
                "SHOPLENS_SEARCH_CANDIDATES",
            )
        } | overrides
        report["settings"]["weights"] = settings.SHOPLENS_SEARCH_WEIGHTS["image"]
        report["settings"]["vector_storage"] = storage
        self.stdout.write(json.dumps(report, indent=None if options["json"] else 2))

    def _run(self, alias: str, options: dict[str, Any]) -> dict[str, Any]:
        rng = np.random.default_rng(options["seed"] + 1)
        spaces = active_spaces(using=alias)
        n_products, n_queries = options["products"], options["queries"]
        sources = rng.integers(1, n_products + 1, size=n_queries)
        queries = {
            name: _noisy(_stored(alias, spaces[(name, "image")].pk, sources), rng, options["noise"])
            for name in ("clip", "visual")
        }
        leaves = rng.integers(ROOT_CATEGORIES + 1, ROOT_CATEGORIES * (LEAVES_PER_ROOT + 1) + 1, size=n_queries)

        def run(index: int, *, filters: SearchFilters, exact: bool, signals: tuple[str, ...]) -> list[int]:
            result = search_vectors(
                vectors={name: queries[name][index] for name in signals},
                kind="image",
                filters=filters,
                limit=LIMIT,
                spaces=spaces,
                using=alias,
                exact=exact,
            )
            return [hit.product.pk for hit in result.hits]

        both = ("clip", "visual")
        report_prewarm = _prewarm(alias)
        for index in range(min(10, n_queries)):  # warm the caches
            run(index, filters=SearchFilters(), exact=False, signals=both)
        report: dict[str, Any] = {"n_products": n_products, "n_queries": n_queries, "limit": LIMIT}
        report["prewarmed"] = report_prewarm
        with connections[alias].cursor() as cursor:
            cursor.execute("SHOW shared_buffers")
            report["shared_buffers"] = cursor.fetchone()[0]
        halves = [
            ("", lambda i: SearchFilters()),
            ("filtered_", lambda i: SearchFilters(category_id=int(leaves[i]))),
        ]
        for prefix, make_filters in halves:
            if options["only"] and options["only"] != (prefix.rstrip("_") or "unfiltered"):
                continue
            timings, clip_timings, recalls, clip_recalls, full = [], [], [], [], 0
            for index in range(n_queries):
                filters = make_filters(index)
                started = time.perf_counter()
                found = run(index, filters=filters, exact=False, signals=both)
                timings.append((time.perf_counter() - started) * 1000)
                truth = run(index, filters=filters, exact=True, signals=both)
                recalls.append(len(set(found) & set(truth)) / max(1, len(truth)))
                started = time.perf_counter()
                clip_found = run(index, filters=filters, exact=False, signals=("clip",))
                clip_timings.append((time.perf_counter() - started) * 1000)
                clip_truth = run(index, filters=filters, exact=True, signals=("clip",))
                clip_recalls.append(len(set(clip_found) & set(clip_truth)) / max(1, len(clip_truth)))
                full += len(found) == LIMIT
            timings.sort()
            report[f"{prefix}p50_ms"] = round(statistics.median(timings), 2)
            report[f"{prefix}p95_ms"] = round(timings[min(len(timings) - 1, int(0.95 * len(timings)))], 2)
            report[f"{prefix}recall_at_10"] = round(statistics.mean(recalls), 4)
            report[f"{prefix}clip_recall_at_10"] = round(statistics.mean(clip_recalls), 4)
            report[f"{prefix}clip_p50_ms"] = round(statistics.median(clip_timings), 2)
            if prefix:
                report["filtered_full_pages"] = round(full / n_queries, 4)
            self._log(options, f"{prefix or 'unfiltered '}done")
        return report

    def _log(self, options: dict[str, Any], message: str) -> None:
        if not options["json"]:
            self.stderr.write(message)


def _prewarm(alias: str) -> bool:
    """Read the vector tables and their HNSW indexes into PostgreSQL's buffers (pg_prewarm), as
    on a server that has been answering searches for a while; False when pg_prewarm is missing."""
    from django.db import DatabaseError, transaction

    with connections[alias].cursor() as cursor:
        try:
            with transaction.atomic(using=alias):
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


def _stored(alias: str, space_id: int, product_ids: np.ndarray) -> np.ndarray:
    with connections[alias].cursor() as cursor:
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
