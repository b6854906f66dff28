"""What the search index does when the catalogue changes: queue the embedding of new photos and
changed product texts. Connected to ``catalog.changes.catalog_changed`` in ``apps.ready()``;
the signal arrives after the write committed, so the worker finds the rows."""

from __future__ import annotations

from typing import Any

from catalog.changes import CatalogChanges
from visualsearch.tasks import enqueue_indexing


def index_catalog_changes(sender: Any, *, changes: CatalogChanges, **kwargs: Any) -> None:
    enqueue_indexing(image_ids=changes.image_ids, product_ids=changes.product_ids)
    enqueue_indexing(image_ids=changes.forced_image_ids, product_ids=changes.forced_product_ids, force=True)
