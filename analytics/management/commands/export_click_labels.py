"""``manage.py export_click_labels LABELS.csv``: what shoppers clicked, as a labels file for ``eval_search``.

python manage.py export_click_labels clicks.csv --days 30 && python manage.py eval_search clicks.csv
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from analytics.exports import click_labels, write_labels_csv


class Command(BaseCommand):
    help = "Write query,expected_sku,kind,clicks rows (one per query and clicked product) for eval_search."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("labels", type=Path)
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--min-clicks", type=int, default=1, help="Keep pairs clicked at least this often.")
        parser.add_argument(
            "--images-dir", type=Path, help="Also label photo searches whose thumbnail was kept (written here)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        labels = click_labels(days=options["days"], min_clicks=options["min_clicks"], images_dir=options["images_dir"])
        with options["labels"].open("w", newline="", encoding="utf-8") as out:
            written = write_labels_csv(out, labels)
        self.stdout.write(f"{written} labelled queries written to {options['labels']}.")
