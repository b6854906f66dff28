"""List embedding spaces with their coverage; activate one by hand; prune retired ones."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from visualsearch import spaces
from visualsearch.models import EmbeddingSpace, SpaceStatus


class Command(BaseCommand):
    help = "List embedding spaces (coverage per model version), --activate ID, --promote, --prune-retired."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--activate", type=int, metavar="ID",
                            help="Make this space the one search uses, even if it is incomplete.")  # fmt: skip
        parser.add_argument("--promote", action="store_true", help="Activate building spaces that are complete.")
        parser.add_argument("--prune-retired", action="store_true", help="Delete retired spaces and their vectors.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["activate"] is not None:
            space = EmbeddingSpace.objects.filter(pk=options["activate"]).first()
            if space is None:
                raise CommandError(f"No embedding space {options['activate']}")
            coverage = spaces.space_coverage(space=space)
            spaces.space_activate(space=space)
            self.stdout.write(self.style.SUCCESS(f"Activated {space} ({coverage.percent}% covered)."))
        if options["promote"]:
            for space in spaces.spaces_promote_complete():
                self.stdout.write(self.style.SUCCESS(f"Activated {space}."))
        if options["prune_retired"]:
            for space in EmbeddingSpace.objects.filter(status=SpaceStatus.RETIRED):
                label = str(space)
                removed = spaces.space_prune(space=space)
                self.stdout.write(f"Pruned {label}: {removed} vectors removed.")
        self._list()

    def _list(self) -> None:
        self.stdout.write(f"{'ID':>4}  {'ENCODER':<8} {'MODALITY':<8} {'STATUS':<9} {'COVERAGE':>18}  VERSION")
        for space in EmbeddingSpace.objects.order_by("encoder", "modality", "-created_at"):
            coverage = spaces.space_coverage(space=space)
            covered = f"{coverage.covered}/{coverage.required} {coverage.percent:5.1f}%"
            self.stdout.write(
                f"{space.pk:>4}  {space.encoder:<8} {space.modality:<8} {space.status:<9} {covered:>18}  "
                f"{space.model_version}"
            )
