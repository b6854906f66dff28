"""Product texts into vectors with every enabled text-only encoder."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from catalog.models import Product
from visualsearch.encoders import TEXT, EncoderUnavailable, load_encoders
from visualsearch.indexing.report import IndexingReport
from visualsearch.models import ProductTextEmbedding
from visualsearch.spaces import space_for_encoder

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)


def embed_product_texts(
    *, product_ids: Sequence[int], force: bool = False, encoder_names: Iterable[str] | None = None
) -> IndexingReport:
    """Embed the products' texts with every enabled text-only encoder; unchanged texts are skipped."""
    report = IndexingReport()
    encoders, report.unavailable = load_encoders(TEXT, names=encoder_names)
    products = list(Product.objects.filter(pk__in=list(product_ids)).select_related("brand", "category"))
    if not products:
        return report
    texts = {product.pk: product.search_text() for product in products}
    digests = {pk: hashlib.sha256(text.encode()).hexdigest() for pk, text in texts.items()}
    for encoder in encoders:
        try:
            space = space_for_encoder(encoder=encoder, modality=TEXT)
            current = dict(
                ProductTextEmbedding.objects.filter(space=space, product_id__in=list(texts)).values_list(
                    "product_id", "text_sha256"
                )
            )
            todo = [pk for pk in texts if force or current.get(pk) != digests[pk]]
            report.skipped += len(texts) - len(todo)
            vectors: np.ndarray | list[np.ndarray] = encoder.encode_texts([texts[pk] for pk in todo]) if todo else []
        except EncoderUnavailable as exc:
            report.unavailable[encoder.name] = str(exc)
            logger.warning("Encoder %r is unavailable, indexing continues without it: %s", encoder.name, exc)
            continue
        ProductTextEmbedding.objects.bulk_create(
            [
                ProductTextEmbedding(space=space, product_id=pk, text_sha256=digests[pk], vector=vector)
                for pk, vector in zip(todo, vectors, strict=True)
            ],
            batch_size=500,
            update_conflicts=True,
            unique_fields=["space", "product"],
            update_fields=["vector", "text_sha256"],
        )
        report.embedded += len(todo)
    return report
