"""``manage.py bench_api``: photo search through the API on gunicorn versus the bare encoder on
the same photos, in one run (see ``devtools.bench.api``).

    python manage.py bench_api --products 12 --photos 30 --json
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import override_settings

from devtools.bench.api import ENCODER, run
from devtools.processes import free_port


class Command(BaseCommand):
    help = "Time photo search through the API (gunicorn) against the bare visual encoder on the same photos."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=12, help="Size of the drawn catalogue.")
        parser.add_argument("--photos", type=int, default=30, help="New photos searched (one request each).")
        parser.add_argument("--port", type=int, default=0, help="Port for gunicorn (default: a free one).")
        parser.add_argument("--json", action="store_true", help="Print only the JSON result.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["products"] < 1 or options["photos"] < 1:
            raise CommandError("--products and --photos must be at least 1")
        port = options["port"] or free_port()
        say = (lambda message: None) if options["json"] else self.stderr.write
        with override_settings(SHOPLENS_ENABLED_ENCODERS=[ENCODER, "text"]):
            report = run(products=options["products"], photos=options["photos"], port=port, say=say)
        self.stdout.write(json.dumps(report, indent=None if options["json"] else 2))
