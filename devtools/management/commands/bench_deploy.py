"""``manage.py bench_deploy``: catalogue page bytes (originals vs thumbnails) and the first searches
after a gunicorn start with and without the warm-up. See devtools/bench/deploy.py."""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from devtools.bench.deploy import catalogue_page_bytes, first_searches
from devtools.processes import database_url


class Command(BaseCommand):
    help = "Bytes of one catalogue page before/after thumbnails; first search latency before/after warm-up."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--viewport", type=int, default=1280, help="CSS pixels wide.")
        parser.add_argument("--density", type=float, default=1.0, help="Device pixel ratio.")
        parser.add_argument("--skip-first-search", action="store_true")
        parser.add_argument("--runs", type=int, default=1, help="gunicorn starts per warm-up setting.")

    def handle(self, *args: Any, **options: Any) -> None:
        page = catalogue_page_bytes(viewport=options["viewport"], density=options["density"])
        self.stdout.write(json.dumps({"catalogue_page": asdict(page)}))
        if options["skip_first_search"]:
            return
        with tempfile.TemporaryDirectory() as folder:
            for run in range(options["runs"]):
                for warm_up in (False, True):
                    result = first_searches(
                        warm_up=warm_up,
                        folder=Path(folder),
                        database_url=database_url(connection.settings_dict),
                        redis_url=settings.REDIS_URL,
                    )
                    self.stdout.write(json.dumps({"run": run, "first_search": asdict(result)}))
