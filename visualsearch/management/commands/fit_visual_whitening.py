"""``manage.py fit_visual_whitening OUTPUT``: PCA-whitening of the visual encoder, fitted on the shop's photos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from visualsearch.encoders import EncoderUnavailable
from visualsearch.encoders.whitening import WhiteningError
from visualsearch.evaluation import SPLITS
from visualsearch.fitting import fit_visual_whitening


class Command(BaseCommand):
    help = (
        "Fit a PCA-whitening (or with --rotation a rotation) of the visual encoder's CNN features on the "
        "catalogue's photos and write it to "
        "OUTPUT; point VISUAL_WHITENING at it to index a new embedding space with it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("output", type=Path, help="The whitening file to write (.npz).")
        parser.add_argument("--components", type=int, default=256,
                            help="Whitened CNN dimensions kept (default 256; at most photos - 1).")  # fmt: skip
        parser.add_argument("--shrinkage", type=float, default=1.0,
                            help="Added to each variance, times the mean variance (default 1.0).")  # fmt: skip
        parser.add_argument("--split", choices=SPLITS, default="all",
                            help="Fit on the photos of this product-disjoint half only (default all).")  # fmt: skip
        parser.add_argument("--max-photos", type=int, default=20000, help="Distinct photos read at most.")
        parser.add_argument("--rotation", action="store_true",
                            help="Fit a rotation instead: every component kept, none scaled, so every similarity "
                                 "stays the same and the leading components carry the most.")  # fmt: skip
        parser.add_argument("--index-dimensions", type=int, default=0,
                            help="With --rotation: the HNSW index covers this many leading components (default "
                                 "0: all); search scores its candidates on the whole vector.")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if options["components"] < 1 or options["max_photos"] < 3:
            raise CommandError("--components must be at least 1 and --max-photos at least 3.")
        if options["index_dimensions"] and not options["rotation"]:
            raise CommandError("--index-dimensions needs --rotation (whitened components are scaled alike).")
        try:
            fit = fit_visual_whitening(
                output=options["output"],
                components=options["components"],
                shrinkage=options["shrinkage"],
                split=options["split"],
                max_photos=options["max_photos"],
                rotation=options["rotation"],
                index_dimensions=options["index_dimensions"],
            )
        except (WhiteningError, EncoderUnavailable) as exc:
            raise CommandError(str(exc)) from exc
        skipped = f" ({fit.skipped} unreadable skipped)" if fit.skipped else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Fitted on {fit.photos} photos{skipped}: {fit.components} components, "
                f"{fit.dimension}-dimensional vectors. Wrote {fit.path}."
            )
        )
        if fit.index_energy is not None:
            self.stdout.write(
                f"The HNSW index covers the first {fit.index_dimensions} components: "
                f"{fit.index_energy:.1%} of the fitted photos' vectors."
            )
        self.stdout.write(
            f"Set VISUAL_WHITENING={fit.path} for the web and worker processes: the visual encoder becomes "
            f"{fit.version}, a new embedding space is filled beside the active one (manage.py reindex "
            "--encoder visual, or the periodic sweep) and search switches to it once it covers the catalogue."
        )
