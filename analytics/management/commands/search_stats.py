"""``manage.py search_stats [--days N] [--json]``: search quality figures of the recorded events."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from analytics.selectors import Figures, search_stats


class Command(BaseCommand):
    help = "Searches, zero-result searches, clicks, CTR, MRR and latency per kind (and per day with --json)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=7, help="The last N days, today included (default 7).")
        parser.add_argument("--json", action="store_true", help="Print every figure as one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        stats = search_stats(days=max(1, options["days"]))
        if options["json"]:
            self.stdout.write(json.dumps(stats.as_dict(), indent=2))
            return
        self.stdout.write(f"Searches from {stats.since} to {stats.until} (UTC)")
        self.stdout.write(
            f"{'kind':<12}{'searches':>9}{'zero':>7}{'clicks':>8}{'CTR':>7}{'MRR':>7}{'mean':>9}{'p95':>9}"
        )
        for kind, figures in [*stats.by_kind.items(), ("all", stats.totals)]:
            self.stdout.write(_line(kind, figures))
        self.stdout.write(
            "CTR by position: " + "  ".join(f"#{r['position']} {r['ctr']:.1%}" for r in stats.ctr_by_position)
        )
        if stats.zero_result_queries:
            self.stdout.write("Most frequent text searches that found nothing:")
            for row in stats.zero_result_queries:
                self.stdout.write(f"  {row['searches']:>5}  {row['text']}")
        if stats.top_categories:
            self.stdout.write("Most searched categories:")
            for row in stats.top_categories:
                self.stdout.write(f"  {row['searches']:>5}  {row['name']}")


def _line(kind: str, f: Figures) -> str:
    ms = f"{f.mean_ms:.0f} ms" if f.mean_ms is not None else "-"
    p95 = f"{f.p95_ms:.0f} ms" if f.p95_ms is not None else "-"
    return f"{kind:<12}{f.searches:>9}{f.zero_results:>7}{f.clicks:>8}{f.ctr:>7.1%}{f.mrr:>7.2f}{ms:>9}{p95:>9}"
