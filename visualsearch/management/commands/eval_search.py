"""``manage.py eval_search LABELS.csv``: recall@1/5/10 and MRR of the search on labelled queries.

``manage.py eval_search --multi-view``: the same figures when one photo per product is indexed
and each of its other photos is the query (see ``visualsearch.multiview``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from visualsearch.evaluation import CUTOFFS, SPLITS, LabelsError, Metrics, evaluate, in_split, read_labels
from visualsearch.multiview import MultiViewError, evaluate_multi_view


class Command(BaseCommand):
    help = (
        "Measure search quality: LABELS.csv has query,expected_sku[,kind] rows (an image path or a text, "
        "and the SKU that should be found); or --multi-view: each product's other photos find its first one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("labels", type=Path, nargs="?")
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
        parser.add_argument("--kind", choices=["image", "text"], help="Treat every query as this kind.")
        parser.add_argument("--images-root", type=Path, help="Folder relative image paths are read from.")
        parser.add_argument("--split", choices=SPLITS, default="all",
                            help="Only queries of this product-disjoint half (fitted steps: test).")  # fmt: skip
        parser.add_argument("--multi-view", action="store_true", help="The multi-view protocol (no labels file).")
        parser.add_argument("--encoder", default="visual", help="Multi-view: the encoder whose vectors are scored.")
        parser.add_argument("--variant-attribute", default="colour",
                            help="Multi-view: products differing only in this attribute are variants.")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if options["multi_view"]:
            self._multi_view(options)
            return
        if options["labels"] is None:
            raise CommandError("Give a labels file, or --multi-view.")
        try:
            queries = read_labels(options["labels"], kind=options["kind"], images_root=options["images_root"])
        except LabelsError as exc:
            raise CommandError(str(exc)) from exc
        queries = [query for query in queries if in_split(query.expected_sku, options["split"])]
        if not queries:
            raise CommandError(f"{options['labels']} holds no queries (split {options['split']}).")
        report = evaluate(queries)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
            return
        self.stdout.write(f"Encoders: {', '.join(report.encoders) or 'none'}")
        self.stdout.write("match: expected product shown as a match (above the relevance floor); none: no match at all")
        self.stdout.write(_header())
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

    def _multi_view(self, options: dict[str, Any]) -> None:
        try:
            report = evaluate_multi_view(
                encoder=options["encoder"], split=options["split"], variant_attribute=options["variant_attribute"]
            )
        except MultiViewError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
            return
        self.stdout.write(f"Space: {report.space}; {report.products} products indexed by their first photo")
        self.stdout.write(_header())
        self.stdout.write(_line(f"views ({report.split})", report.metrics))
        if report.variant_first is not None:
            self.stdout.write(
                f"Right {options['variant_attribute']} first among the variants of the right product: "
                f"{report.variant_first:.3f} ({report.variant_queries} queries)"
            )


def _header() -> str:
    recall = "".join(f"{f'recall@{k}':>11}" for k in CUTOFFS)
    return f"{'':<18}{'queries':>8}{recall}{'MRR':>8}{'match':>8}{'none':>7}"


def _line(name: str, metrics: Metrics) -> str:
    return (
        f"{name:<18}{metrics.queries:>8}"
        + "".join(f"{metrics.recall[k]:>11.3f}" for k in CUTOFFS)
        + f"{metrics.mrr:>8.3f}{metrics.above_floor:>8.3f}{metrics.no_match:>7.3f}"
    )
