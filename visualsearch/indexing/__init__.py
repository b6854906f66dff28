"""Indexing: photos and product texts into vectors, one batch (and one model call per encoder)
at a time. Called by the Celery tasks, the ``reindex`` command and the benchmark.

``ProductImage.indexing_status`` reads:

- ``ready``: every enabled image encoder that could be loaded holds a vector for the photo in
  its current space. Encoders that could not be loaded (e.g. CLIP offline) are named in
  ``indexing_error`` ("Not embedded by: ..."), so a ready photo with a note is searchable by the
  other encoders and is picked up by ``reindex --only-missing`` once the model is available.
- ``failed``: the photo itself cannot be embedded (not an image, damaged, too many pixels, file
  missing) or a transient error outlived the task's retries; ``indexing_error`` says why.
- ``pending``: not processed yet, or no image encoder could be loaded at all.
"""

from __future__ import annotations

from visualsearch.indexing.photos import embed_images
from visualsearch.indexing.report import IndexingReport, TransientIndexingError
from visualsearch.indexing.texts import embed_product_texts

__all__ = ["IndexingReport", "TransientIndexingError", "embed_images", "embed_product_texts"]
