"""Query embeddings, cached per encoder version: a photo's by its SHA-256, a text's by the SHA-256
of the text as searched (trimmed, lower-cased, spaces collapsed).

A repeated search with the same photo or words skips the model. Only vectors are cached, never results,
so prices and stock shown are always fresh. A cache that is down only costs speed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings
from django.core.cache import cache

from visualsearch import events

if TYPE_CHECKING:
    from visualsearch.encoders.base import Encoder

logger = logging.getLogger(__name__)


def query_vector_key(*, encoder: Encoder, content_sha256: str, prefix: str = "query-vector") -> str:
    version = hashlib.sha256(f"{encoder.name}:{encoder.version}".encode()).hexdigest()[:16]
    return f"{prefix}:{encoder.name}:{version}:{content_sha256}"


def text_cache_form(text: str) -> str:
    """The text as its vector is cached and computed: "Red  Shoes " and "red shoes" are one query."""
    return " ".join(text.lower().split())


def cached_image_vector(*, encoder: Encoder, content: bytes, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """The encoder's vector for the photo ``content``: from the cache, else ``compute()`` and store."""
    return _cached(
        query_vector_key(encoder=encoder, content_sha256=hashlib.sha256(content).hexdigest()), encoder, compute
    )


def cached_text_vector(*, encoder: Encoder, text: str, compute: Callable[[str], np.ndarray]) -> np.ndarray:
    """The encoder's vector for the query text: from the cache, else ``compute(text)`` and store."""
    form = text_cache_form(text)
    digest = hashlib.sha256(form.encode()).hexdigest()
    key = query_vector_key(encoder=encoder, content_sha256=digest, prefix="query-text-vector")
    return _cached(key, encoder, lambda: compute(form))


def _cached(key: str, encoder: Encoder, compute: Callable[[], np.ndarray]) -> np.ndarray:
    try:
        stored = cache.get(key)
    except Exception:  # any cache failure just means encoding again
        logger.warning("Query-vector cache unavailable; encoding the photo", exc_info=True)
        stored = None
    hit = isinstance(stored, bytes) and len(stored) == 4 * int(encoder.dimension)
    events.query_vector_cache_lookup.send(sender=__name__, encoder=encoder.name, hit=hit)
    if hit:
        assert isinstance(stored, bytes)
        return np.frombuffer(stored, dtype=np.float32).copy()
    vector = np.asarray(compute(), dtype=np.float32).reshape(-1)
    try:
        cache.set(key, vector.tobytes(), timeout=settings.SHOPLENS_QUERY_EMBEDDING_CACHE_SECONDS)
    except Exception:  # a cache failure only costs speed
        logger.warning("Could not store a query vector in the cache", exc_info=True)
    return vector
