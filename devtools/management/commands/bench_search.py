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

from devtools.bench import catalogue, options
from devtools.bench import storage as storage_report
from devtools.bench.catalogue import SpaceSpec
from devtools.bench.clients import measure_clients
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
        options.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        if (options["replica"] or options["only"] == "clients") and not options["clients"]:
            raise CommandError("--replica and --only clients need --clients")
        if options["without_hnsw"] and options["only"] != "filtered":
            raise CommandError("--without-hnsw measures the exact path only: add --only filtered")
        widths = {"clip": ("image", 512), "visual": ("image", options["visual_dim"]), "text": ("text", 384)}
        prefixes = {"visual": options["visual_index_dimensions"]}
        specs = [SpaceSpec(name, *widths[name], prefixes.get(name)) for name in options["spaces"].split(",")]
        storage = options["vector_storage"]
        overrides = {name: options[key] for key, name in SEARCH_SETTINGS.items() if options[key] is not None}
        build_seconds, index = None, {"m": options["m"], "ef_construction": options["ef_construction"]}
        with database_beside("_bench", fresh=False):
            if (
                options["rebuild"]
                or options["without_hnsw"]
                or catalogue.hnsw_missing()  # left out by an earlier --without-hnsw
                or catalogue.catalogue_size(specs, storage=storage, data=options["data"]) != options["products"]
            ):
                self._log(options, f"Building {options['products']} products in {connection.settings_dict['NAME']}")
                started = time.perf_counter()
                build_seconds = catalogue.build_catalogue(
                    products=options["products"], specs=specs, seed=options["seed"], storage=storage,
                    maintenance_work_mem=options["maintenance_work_mem"], data=options["data"],
                    hnsw=not options["without_hnsw"], **index,
                ) | {"total": round(time.perf_counter() - started, 1)}  # fmt: skip
            elif options["reindex"]:
                self._log(options, f"Rebuilding the indexes of {options['reindex']}")
                build_seconds = catalogue.rebuild_indexes(
                    **index, maintenance_work_mem=options["maintenance_work_mem"],
                    encoders=options["reindex"].split(","),
                )  # fmt: skip
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
            report["disk_mb"] = storage_report.relation_sizes()
            report["index_parameters"] = storage_report.index_parameters()
            report["index_dimensions"] = storage_report.index_dimensions()
        report["half_precision_changes"] = storage_report.half_precision_changes(
            products=options["products"], seed=options["seed"]
        )
        report["build_seconds"] = build_seconds
        report["settings"] = {name: getattr(settings, name) for name in SEARCH_SETTINGS.values()} | overrides
        report["settings"]["SHOPLENS_SEARCH_ITERATIVE_SCAN"] = settings.SHOPLENS_SEARCH_ITERATIVE_SCAN
        report["settings"]["weights"] = settings.SHOPLENS_SEARCH_WEIGHTS["image"]
        report["settings"]["rescored_signals"] = settings.SHOPLENS_SEARCH_RESCORED_SIGNALS
        report["settings"]["vector_storage"] = storage
        report["settings"]["data"] = options["data"]
        self.stdout.write(json.dumps(report, indent=None if options["json"] else 2))

    def _log(self, options: dict[str, Any], message: str) -> None:
        if not options["json"]:
            self.stderr.write(message)
