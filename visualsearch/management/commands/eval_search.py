"""``manage.py eval_search LABELS.csv``: recall@1/5/10 and MRR of the search on labelled queries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from visualsearch.evaluation import CUTOFFS, LabelsError, Metrics, evaluate, read_labels


class Command(BaseCommand):
    help = (
        "Measure search quality: LABELS.csv has query,expected_sku[,kind] rows (an image path or a text, "
        "and the SKU that should be found)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("labels", type=Path)
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
        parser.add_argument("--kind", choices=["image", "text"], help="Treat every query as this kind.")
        parser.add_argument("--images-root", type=Path, help="Folder relative image paths are read from.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            queries = read_labels(options["labels"], kind=options["kind"], images_root=options["images_root"])
        except LabelsError as exc:
            raise CommandError(str(exc)) from exc
        if not queries:
            raise CommandError(f"{options['labels']} holds no queries.")
        report = evaluate(queries)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
            return
        recall = "".join(f"{f'recall@{k}':>11}" for k in CUTOFFS)
        header = f"{'':<18}{'queries':>8}{recall}{'MRR':>8}{'match':>8}{'none':>7}"
        self.stdout.write(f"Encoders: {', '.join(report.encoders) or 'none'}")
        self.stdout.write("match: expected product shown as a match (above the relevance floor); none: no match at all")
        self.stdout.write(header)
        self.stdout.write(_line("overall", report.overall))
        for kind, metrics in report.by_kind.items():
            self.stdout.write(_line(kind, metrics))
        if report.worst:
            self.stdout.write("Worst queries (rank of the expected product):")
            for outcome in report.worst:
                rank = (
                    str(outcome.rank)
                    if outcome.rank
                    else f"not in top 50{f' ({outcome.error})' if outcome.error else ''}"
                )
                self.stdout.write(
                    f"  {rank:>6}  {outcome.labelled.expected_sku}  {outcome.labelled.kind}: {outcome.labelled.query}"
                )


def _line(name: str, metrics: Metrics) -> str:
    return (
        f"{name:<18}{metrics.queries:>8}"
        + "".join(f"{metrics.recall[k]:>11.3f}" for k in CUTOFFS)
        + f"{metrics.mrr:>8.3f}{metrics.above_floor:>8.3f}{metrics.no_match:>7.3f}"
    )
