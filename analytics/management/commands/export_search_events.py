"""``manage.py export_search_events [--days N] [--output FILE]``: recorded searches as CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from analytics.exports import write_events_csv


class Command(BaseCommand):
    help = "Write the recorded searches of the last N days as CSV (one row per search, with its click count)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--output", type=Path, help="File to write (default: standard output).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["output"] is None:
            written = write_events_csv(self.stdout, days=options["days"])
        else:
            with options["output"].open("w", newline="", encoding="utf-8") as out:
                written = write_events_csv(out, days=options["days"])
        self.stderr.write(f"{written} searches written.")
