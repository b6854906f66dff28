"""``manage.py make_thumbnails [--force]``: thumbnails for every indexed photo (after an upgrade;
new photos get theirs when they are indexed)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from catalog.models import IndexingStatus, ProductImage
from catalog.thumbnails import generate_thumbnails


class Command(BaseCommand):
    help = "Write the missing thumbnails of every indexed photo."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Write them again even where they exist.")

    def handle(self, *args: Any, **options: Any) -> None:
        photos = ProductImage.objects.filter(indexing_status=IndexingStatus.READY).order_by("pk")
        written = generate_thumbnails(photos.iterator(chunk_size=200), force=options["force"])
        self.stdout.write(f"{written} thumbnail files written for {photos.count()} indexed photos.")
