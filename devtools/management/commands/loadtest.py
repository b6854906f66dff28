"""``manage.py loadtest --url http://127.0.0.1:8000 --clients 8 --seconds 60``: see devtools/loadtest.py."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.loadtest import SCENARIOS, require_loopback, run_scenario


class Command(BaseCommand):
    help = "Bounded load test of a shop running on this machine (loopback only): requests/s, p50/p95, errors."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="The shop (gateway or gunicorn).")
        parser.add_argument("--clients", type=int, default=8)
        parser.add_argument("--seconds", type=float, default=60.0, help="Per scenario (at most 600).")
        parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="Repeatable; default all.")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["clients"] <= 64 or not 0 < options["seconds"] <= 600:
            raise CommandError("--clients must be 1..64 and --seconds 0..600.")
        try:
            host, port = require_loopback(options["url"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        rows = []
        for name in options["scenario"] or list(SCENARIOS):
            result = run_scenario(
                host=host, port=port, name=name, clients=options["clients"], seconds=options["seconds"]
            )
            rows.append(result.as_row())
            if not options["json"]:
                row = rows[-1]
                self.stdout.write(
                    f"{name:13} {row['requests']:6} requests  {row['requests_per_s']:7} req/s  "
                    f"p50 {row['p50_ms']:7} ms  p95 {row['p95_ms']:7} ms  "
                    f"errors {row['errors']} {row['error_kinds'] or ''}"
                )
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
