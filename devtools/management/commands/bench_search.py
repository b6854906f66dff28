"""``manage.py bench_search``: search latency and recall on a synthetic catalogue, through the
selector the API uses (see ``devtools.bench.search``).

    python manage.py bench_search --products 100000 --queries 200 --json
    python manage.py bench_search --products 20000 --clients 1,2,4,8 --replica --only clients --json
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import override_settings

from devtools.bench import catalogue
from devtools.bench.catalogue import SpaceSpec
from devtools.bench.clients import measure_clients, parse_clients
from devtools.bench.search import measure
from devtools.databases import database_beside

SEARCH_SETTINGS = {
    "ef_search": "SHOPLENS_SEARCH_EF_SEARCH",
    "max_scan_tuples": "SHOPLENS_SEARCH_MAX_SCAN_TUPLES",
    "exact_max_products": "SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS",
    "exact_max_share": "SHOPLENS_SEARCH_EXACT_MAX_SHARE",
    "candidates": "SHOPLENS_SEARCH_CANDIDATES",
}


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
        parser.add_argument("--exact-max-share", type=float, default=None)
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
        parser.add_argument(
            "--only", choices=["unfiltered", "filtered", "clients"], default=None,
            help="run one half of the latency queries only, or only the client sweep",
        )  # fmt: skip
        parser.add_argument("--clients", type=parse_clients, default=None, help="e.g. 1,2,4: searches/s with K clients")
        parser.add_argument("--client-seconds", type=float, default=10.0, help="at most this long per K clients")
        parser.add_argument("--client-searches", type=int, default=2000, help="at most this many searches per K")
        parser.add_argument("--replica", action="store_true", help="the sweep again on the primary + a standby")
        parser.add_argument("--replica-shared-buffers", default=None, help="the standby's (default: 2GB or less)")
        parser.add_argument(
            "--data", choices=["structured", "random"], default="structured",
            help="structured: families fitted to real vectors (devtools/bench/vectors.py); random: isotropic clusters",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if (options["replica"] or options["only"] == "clients") and not options["clients"]:
            raise CommandError("--replica and --only clients need --clients")
        specs = [SpaceSpec("clip", "image", 512), SpaceSpec("visual", "image", options["visual_dim"]),
                 SpaceSpec("text", "text", 384)]  # fmt: skip
        storage = options["vector_storage"]
        overrides = {name: options[key] for key, name in SEARCH_SETTINGS.items() if options[key] is not None}
        build_seconds = None
        with database_beside("_bench", fresh=False):
            if (
                options["rebuild"]
                or catalogue.catalogue_size(specs, storage=storage, data=options["data"]) != options["products"]
            ):
                self._log(options, f"Building {options['products']} products in {connection.settings_dict['NAME']}")
                started = time.perf_counter()
                catalogue.build_catalogue(
                    products=options["products"], specs=specs, seed=options["seed"], storage=storage,
                    maintenance_work_mem=options["maintenance_work_mem"], data=options["data"],
                )  # fmt: skip
                build_seconds = round(time.perf_counter() - started, 1)
            with override_settings(DEBUG=False, **overrides):  # as in production: no query log
                report = measure(
                    products=options["products"], queries=options["queries"], noise=options["noise"],
                    seed=options["seed"], only=options["only"], log=lambda message: self._log(options, message),
                    data=options["data"],
                )  # fmt: skip
                if options["clients"]:
                    report["clients"] = measure_clients(
                        clients=options["clients"], products=options["products"], queries=options["queries"],
                        noise=options["noise"], seed=options["seed"], data=options["data"],
                        searches=options["client_searches"], seconds=options["client_seconds"],
                        replica=options["replica"], replica_shared_buffers=options["replica_shared_buffers"],
                        log=lambda message: self._log(options, message),
                    )  # fmt: skip
        report["build_seconds"] = build_seconds
        report["settings"] = {name: getattr(settings, name) for name in SEARCH_SETTINGS.values()} | overrides
        report["settings"]["SHOPLENS_SEARCH_ITERATIVE_SCAN"] = settings.SHOPLENS_SEARCH_ITERATIVE_SCAN
        report["settings"]["weights"] = settings.SHOPLENS_SEARCH_WEIGHTS["image"]
        report["settings"]["vector_storage"] = storage
        report["settings"]["data"] = options["data"]
        self.stdout.write(json.dumps(report, indent=None if options["json"] else 2))

    def _log(self, options: dict[str, Any], message: str) -> None:
        if not options["json"]:
            self.stderr.write(message)
