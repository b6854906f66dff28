"""``import_catalog``: create or update products from a catalogue file through catalog.services."""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from catalog.changes import batched_changes
from catalog.importers.fetch import FetchedImage, ImageFetchError, SafeFetcher
from catalog.importers.photos import ImageLoader
from catalog.importers.sources import CatalogRow, RowError, RowFailure, read_rows
from catalog.models import Product
from catalog.services import (
    ImageUpload,
    brand_ensure,
    category_ensure_path,
    product_create,
    product_image_add,
    product_update,
)

CREATED, UPDATED, UNCHANGED, FAILED = "created", "updated", "unchanged", "failed"
# The committed rows' changes are announced whenever this many new photos (or rows) have committed,
# so the worker starts while the import goes on instead of after its last row.
QUEUE_EVERY_PHOTOS = 32
QUEUE_EVERY_ROWS = 32

logger = logging.getLogger(__name__)


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    images_added: int = 0
    failures: list[RowFailure] = field(default_factory=list)
    held_out: list[tuple[str, str]] = field(default_factory=list)  # (query image path, sku)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def as_text(self) -> str:
        lines = [
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.failed} failed; {self.images_added} new photos."
        ]
        lines += [f"  failed {f.ref}{f' ({f.sku})' if f.sku else ''}: {f.reason}" for f in self.failures]
        return "\n".join(lines)


def import_catalog(
    *,
    source: Path,
    format: str | None = None,
    images_root: Path | None = None,
    limit: int | None = None,
    hold_out_last_image: bool = False,
    fetcher: SafeFetcher | None = None,
    progress: Callable[[Iterable[CatalogRow | RowFailure]], Iterable[CatalogRow | RowFailure]] | None = None,
) -> ImportSummary:
    """Import ``source`` row by row, each in its own transaction; a bad row is reported, never fatal.

    Products are matched by SKU, so a second run updates them and adds only photos whose bytes are
    new (known bytes are recognised by their SHA-256 and never decoded again). The changes are
    announced (``catalog_changed``) in batches as rows commit, so indexing starts while the import
    goes on. With ``hold_out_last_image``
    the last photo of every product with two or more is left out and listed in ``held_out`` (it is
    the query of a search evaluation).
    """
    source = Path(source)
    loader = ImageLoader(base_dir=source.resolve().parent, images_root=images_root, fetcher=fetcher)
    summary = ImportSummary()
    rows: Iterable[CatalogRow | RowFailure] = _limited(read_rows(source, format=format), limit)
    if progress is not None:
        rows = progress(rows)
    with ExitStack() as queued:
        queued.enter_context(batched_changes())
        rows_since, photos_since = 0, 0
        for row in rows:
            if isinstance(row, RowFailure):
                summary.failures.append(row)
                continue
            try:
                outcome, added, held_out = _import_row(row, loader, hold_out_last_image)
            except Exception as exc:  # a bad row, whatever went wrong, never stops the rest
                summary.failures.append(_failure(row, exc))
                continue
            summary.count(outcome)
            summary.images_added += added
            if held_out:
                summary.held_out.append((held_out, row.sku))
            rows_since, photos_since = rows_since + 1, photos_since + added
            if photos_since >= QUEUE_EVERY_PHOTOS or rows_since >= QUEUE_EVERY_ROWS:
                queued.close()  # announces what committed so far, as one batch
                queued.enter_context(batched_changes())
                rows_since, photos_since = 0, 0
    return summary


def write_held_out_labels(summary: ImportSummary, path: Path) -> None:
    """Labels for ``eval_search``: one held-out photo per product as the query, its SKU expected."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["query", "expected_sku", "kind"])
        for query, sku in summary.held_out:
            writer.writerow([query, sku, "image"])


def _limited(rows: Iterable[CatalogRow | RowFailure], limit: int | None) -> Iterable[CatalogRow | RowFailure]:
    for index, row in enumerate(rows):
        if limit is not None and index >= limit:
            return
        yield row


def _import_row(row: CatalogRow, loader: ImageLoader, hold_out: bool) -> tuple[str, int, str]:
    # Photos are read (maybe downloaded) before the transaction opens: no network under a lock.
    loaded = {reference: loader.load(reference) for reference in dict.fromkeys(row.images)}
    photos = _distinct(list(loaded.values()))
    held_out = ""
    if hold_out and len(photos) >= 2:
        # The query photo must not be in the catalogue, not even as a byte-identical copy.
        held_out = _held_out_reference(list(loaded))
        photos = [photo for photo in photos if photo.content != loaded[held_out].content]
    with transaction.atomic():
        fields: dict[str, Any] = {
            "name": row.name,
            "description": row.description,
            "price": row.price,
            "currency": (row.currency or settings.SHOPLENS_DEFAULT_CURRENCY).upper(),
            "stock": row.stock,
            "rating": row.rating,
            "attributes": row.attributes,
            "brand": brand_ensure(name=row.brand) if row.brand else None,
            "category": category_ensure_path(names=row.category) if row.category else None,
        }
        product = (
            Product.objects.select_related("brand", "category").select_for_update(of=("self",)).filter(sku=row.sku)
        ).first()
        if product is None:
            product = product_create(sku=row.sku, **fields)
            outcome = CREATED
        else:
            changes = {name: value for name, value in fields.items() if getattr(product, name) != value}
            if changes:
                product_update(product=product, **changes)
            outcome = UPDATED if changes else UNCHANGED
        # Known bytes are recognised by their hash alone: a re-import neither decodes nor re-adds them.
        known = set(product.images.values_list("sha256", flat=True))
        added = 0
        for photo in photos:
            if photo.sha256 in known:
                continue
            product_image_add(
                product=product, upload=ImageUpload(file=photo.content, name=photo.name, alt_text=row.name)
            )
            known.add(photo.sha256)
            added += 1
        if added and outcome == UNCHANGED:
            outcome = UPDATED
    return outcome, added, _query_path(held_out, loader) if held_out else ""


def _held_out_reference(references: list[str]) -> str:
    """The last photo that is not a thumbnail (a thumbnail is a smaller copy of another photo)."""
    candidates = [r for r in references if "thumbnail" not in r.rsplit("/", 1)[-1].lower()] or references
    return candidates[-1]


def _query_path(reference: str, loader: ImageLoader) -> str:
    if loader.images_root is not None and reference.startswith(("http://", "https://")):
        return str(loader.mapped_path(reference))
    path = Path(reference)
    return reference if "://" in reference else str(path if path.is_absolute() else loader.base_dir / path)


def _distinct(photos: list[FetchedImage]) -> list[FetchedImage]:
    seen: set[bytes] = set()
    unique = []
    for photo in photos:
        if photo.content not in seen:
            seen.add(photo.content)
            unique.append(photo)
    return unique


def _failure(row: CatalogRow, exc: Exception) -> RowFailure:
    if isinstance(exc, RowError | ImageFetchError):
        reason = str(exc)
    elif isinstance(exc, ValidationError):
        reason = _validation_reason(exc)
    elif isinstance(exc, DatabaseError):
        reason = f"database: {exc}".strip()
    else:
        logger.exception("Import of %s (%s) failed unexpectedly", row.ref, row.sku)
        reason = f"unexpected error: {type(exc).__name__}: {exc}"
    return RowFailure(ref=row.ref, sku=row.sku, reason=reason)


def _validation_reason(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
    return " ".join(exc.messages)
