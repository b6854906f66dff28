"""Catalogue import: DummyJSON and CSV sources, safe image fetching, idempotent writes."""

from __future__ import annotations

from catalog.importers.run import ImportSummary, import_catalog, write_held_out_labels

__all__ = ["ImportSummary", "import_catalog", "write_held_out_labels"]
