"""``manage.py import_catalog SOURCE``: create or update products from a DummyJSON or CSV catalogue."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.importers import import_catalog, write_held_out_labels
from catalog.importers.sources import FORMATS, CatalogRow, RowError, RowFailure


class Command(BaseCommand):
    help = "Import products (and their photos) from a DummyJSON products file or a CSV (docs/import-csv.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", type=Path, help="The catalogue file (.json or .csv).")
        parser.add_argument("--format", choices=FORMATS, help="Defaults to the file extension.")
        parser.add_argument(
            "--images-root",
            type=Path,
            help="Read http(s) image URLs from this folder instead of downloading them: the URL path "
            "after 'product-images/' (or the whole path) is looked up under it.",
        )
        parser.add_argument("--limit", type=int, help="Import at most this many rows.")
        parser.add_argument(
            "--hold-out-last-image",
            type=Path,
            metavar="LABELS_OUT",
            help="Leave the last photo of each product out of the catalogue and write eval_search labels "
            "that use it as the query.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        source: Path = options["source"]
        if not source.is_file():
            raise CommandError(f"{source} is not a file.")
        images_root: Path | None = options["images_root"]
        if images_root is not None and not images_root.is_dir():
            raise CommandError(f"--images-root {images_root} is not a folder.")
        labels: Path | None = options["hold_out_last_image"]
        show_progress = not options["no_progress"] and options["verbosity"] > 0

        def progress(rows: Iterable[CatalogRow | RowFailure]) -> Iterable[CatalogRow | RowFailure]:
            return tqdm(rows, desc="Importing", unit="row", disable=not show_progress)

        started = time.perf_counter()
        try:
            summary = import_catalog(
                source=source,
                format=options["format"],
                images_root=images_root,
                limit=options["limit"],
                hold_out_last_image=labels is not None,
                progress=progress,
            )
        except RowError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        self.stdout.write(summary.as_text())
        indexing = "indexed in this process" if settings.CELERY_TASK_ALWAYS_EAGER else "indexing queued in batches"
        self.stdout.write(f"Imported in {elapsed:.1f} s; {indexing}.")
        if labels is not None:
            write_held_out_labels(summary, labels)
            self.stdout.write(f"Wrote {len(summary.held_out)} held-out queries to {labels}.")
