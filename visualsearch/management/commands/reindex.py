"""Bulk (re-)embedding in this process, batch by batch.

Every batch is committed on its own and vectors already stored are skipped, so an interrupted
run simply continues where it stopped when started again.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.models import IndexingStatus, Product, ProductImage
from visualsearch import indexing, spaces
from visualsearch.encoders import IMAGE, TEXT, Encoder, load_encoders
from visualsearch.indexing import IndexingReport
from visualsearch.tasks import batched


class Command(BaseCommand):
    help = "Embed product photos and texts with the enabled encoders (resumable; skips what is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--encoder", action="append", dest="encoders", metavar="NAME",
                            help="Only this encoder (repeatable). Default: every enabled encoder.")  # fmt: skip
        parser.add_argument("--only-missing", action="store_true",
                            help="Only photos not ready yet and products without a text vector.")  # fmt: skip
        parser.add_argument("--force", action="store_true", help="Recompute vectors that already exist.")
        parser.add_argument("--batch-size", type=int, default=32, help="Photos per model call (default 32).")
        parser.add_argument("--no-texts", action="store_true", help="Skip product texts.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        names = options["encoders"]
        unknown = set(names or ()) - set(settings.SHOPLENS_ENABLED_ENCODERS)
        if unknown:
            raise CommandError(f"Not an enabled encoder: {', '.join(sorted(unknown))}")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        image_encoders, unavailable = load_encoders(IMAGE, names=names)
        text_encoders, text_unavailable = load_encoders(TEXT, names=names)
        unavailable.update(text_unavailable)
        for name, reason in sorted(unavailable.items()):
            self.stderr.write(self.style.WARNING(f"Encoder {name} is unavailable and is skipped: {reason}"))

        photos, texts = indexing.IndexingReport(), indexing.IndexingReport()
        try:
            if image_encoders:
                self._photos(options, names, image_encoders, photos)
            if text_encoders and not options["no_texts"]:
                self._texts(options, names, text_encoders, texts)
        except KeyboardInterrupt:
            self.stdout.write(self._summary(photos, texts))
            self.stdout.write(self.style.WARNING("Interrupted; run the command again to continue where it stopped."))
            raise SystemExit(130) from None
        promoted = spaces.spaces_promote_complete()
        self.stdout.write(self._summary(photos, texts))
        for space in promoted:
            self.stdout.write(self.style.SUCCESS(f"Search now uses {space} (it covers the catalogue)."))

    def _photos(
        self, options: dict[str, Any], names: list[str] | None, encoders: list[Encoder], totals: IndexingReport
    ) -> None:
        queryset = ProductImage.objects.order_by("pk")
        if options["only_missing"]:
            missing: set[int] = set()
            for encoder in encoders:
                space = spaces.space_for_encoder(encoder=encoder, modality=IMAGE)
                missing.update(spaces.space_missing(space=space).values_list("pk", flat=True))
            queryset = queryset.filter(pk__in=missing) | queryset.filter(indexing_status=IndexingStatus.PENDING)
        ids = list(queryset.values_list("pk", flat=True).distinct())
        size = options["batch_size"]
        with tqdm(total=len(ids), unit="photo", desc="Photos", disable=options["no_progress"]) as bar:
            for batch in batched(ids, size):
                try:
                    report = indexing.embed_images(
                        image_ids=batch, force=options["force"], final_attempt=False, encoder_names=names
                    )
                except indexing.TransientIndexingError as exc:
                    self.stderr.write(self.style.WARNING(f"Left pending, run again later: {exc}"))
                    continue
                finally:
                    bar.update(len(batch))
                totals.add(report)
                bar.set_postfix(embedded=totals.embedded, reused=totals.reused, skipped=totals.skipped,
                                failed=totals.failed)  # fmt: skip

    def _texts(
        self, options: dict[str, Any], names: list[str] | None, encoders: list[Encoder], totals: IndexingReport
    ) -> None:
        queryset = Product.objects.order_by("pk")
        if options["only_missing"]:
            missing: set[int] = set()
            for encoder in encoders:
                space = spaces.space_for_encoder(encoder=encoder, modality=TEXT)
                missing.update(spaces.space_missing(space=space).values_list("pk", flat=True))
            queryset = queryset.filter(pk__in=missing)
        ids = list(queryset.values_list("pk", flat=True))
        size = max(options["batch_size"], 64)
        with tqdm(total=len(ids), unit="product", desc="Texts", disable=options["no_progress"]) as bar:
            for batch in batched(ids, size):
                report = indexing.embed_product_texts(product_ids=batch, force=options["force"], encoder_names=names)
                totals.add(report)
                bar.update(len(batch))

    def _summary(self, photos: IndexingReport, texts: IndexingReport) -> str:
        """Counts are vectors (one per photo and encoder), except failed, which counts photos."""
        return (
            f"Photo vectors: embedded {photos.embedded}, reused {photos.reused}, skipped {photos.skipped}; "
            f"failed photos {photos.failed}. Text vectors: embedded {texts.embedded}, skipped {texts.skipped}."
        )
