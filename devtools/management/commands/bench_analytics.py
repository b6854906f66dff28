"""``manage.py bench_analytics``: search latency through the API and the search page with search
analytics recording on and off, in one run (see ``devtools.bench.analytics``).

    python manage.py bench_analytics --products 48 --queries 200 --json
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from devtools.bench.analytics import BENCH_SUFFIX, CHANNELS, measure
from devtools.databases import database_beside


class Command(BaseCommand):
    help = "Photo-search latency (API and page) with search analytics on and off, in a throwaway database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=48, help="demo products (4 photos each)")
        parser.add_argument("--queries", type=int, default=200, help="searches per channel and mode")
        parser.add_argument("--channel", action="append", choices=sorted(CHANNELS), help="default: both")
        parser.add_argument("--seed", type=int, default=2024)
        parser.add_argument("--json", action="store_true", help="print one JSON object only")

    def handle(self, *args: Any, **options: Any) -> None:
        log = (lambda message: None) if options["json"] else self.stderr.write
        with database_beside(BENCH_SUFFIX, fresh=True, keep=False):
            report = measure(
                products=options["products"],
                queries=options["queries"],
                channels=tuple(options["channel"] or sorted(CHANNELS)),
                seed=options["seed"],
                log=log,
            )
        self.stdout.write(json.dumps(report, indent=None if options["json"] else 2))
