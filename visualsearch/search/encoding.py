"""Encoding a ``SearchQuery``: one query vector per signal.

Several photos ("more like these") and negative examples ("not like this") are combined per
encoder with Rocchio's formula on unit vectors:

    q = normalise(mean(positives) - NEGATIVE_WEIGHT * mean(negatives))

A product query uses the product's stored vectors (the normalised mean of its photos' vectors,
and its text vector) and excludes the product itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings

from catalog.imaging import read_image
from visualsearch.encoders import EncoderCapabilityError, EncoderUnavailable, get_encoder
from visualsearch.encoders.base import decode_side
from visualsearch.models import EmbeddingSpace, ImageEmbedding, ProductTextEmbedding
from visualsearch.search.query_cache import cached_image_vector, cached_text_vector
from visualsearch.search.types import IMAGE_SIGNALS, SIGNAL_SPACES, SearchQuery, SearchUnavailable, normalise

if TYPE_CHECKING:
    from PIL import Image

    from visualsearch.encoders.base import Encoder

logger = logging.getLogger(__name__)
ENCODER_ERRORS = (EncoderUnavailable, EncoderCapabilityError)


@dataclass(frozen=True)
class QueryVectors:
    kind: str
    vectors: dict[str, np.ndarray]  # signal -> unit query vector
    exclude_product_ids: tuple[int, ...] = ()


def encode_query(query: SearchQuery, *, spaces: Mapping[tuple[str, str], EmbeddingSpace]) -> QueryVectors:
    """Vectors for every signal of the query's kind whose encoder loads and has an active space;
    ``SearchUnavailable`` when no encoder could embed a photo or text query."""
    kind = query.kind
    weights = settings.SHOPLENS_SEARCH_WEIGHTS[kind]
    wanted = [name for name, weight in weights.items() if weight > 0 and SIGNAL_SPACES[name] in spaces]
    if kind == "product":
        return QueryVectors(
            kind=kind,
            vectors=_stored_product_vectors(int(query.product_id), wanted, spaces),  # type: ignore[arg-type]
            exclude_product_ids=(int(query.product_id),),  # type: ignore[arg-type]
        )
    encoders = {name: _loaded_encoder(SIGNAL_SPACES[name][0], spaces[SIGNAL_SPACES[name]]) for name in wanted}
    photos = _Photos(query)
    photos.min_side = decode_side(e for name, e in encoders.items() if e is not None and name in IMAGE_SIGNALS)
    vectors: dict[str, np.ndarray] = {}
    for name, encoder in encoders.items():
        if encoder is None:
            continue
        try:
            if name in IMAGE_SIGNALS:
                vectors[name] = photos.rocchio(encoder)
            else:
                vectors[name] = normalise(_text_vector(encoder, query.text))
        except ENCODER_ERRORS as exc:
            logger.warning("Encoder %s skipped for this search: %s", encoder.name, exc)
    photos.validate_all()  # a bad upload is reported even when every image encoder is down
    if not vectors:
        raise SearchUnavailable(f"No encoder could embed this {kind.replace('_', ' + ')} query.")
    return QueryVectors(kind=kind, vectors=vectors)


class _Photos:
    """The query's photos, decoded at most once and only when some encoder's vector is not cached."""

    def __init__(self, query: SearchQuery) -> None:
        self.positives = list(query.images)
        self.negatives = list(query.negative_images)
        self._decoded: dict[int, Image.Image] = {}
        self.min_side: int | None = None  # set once the query's image encoders are known

    def decoded(self, index: int) -> Image.Image:
        if index not in self._decoded:
            photo = (self.positives + self.negatives)[index]
            self._decoded[index] = read_image(photo, min_side=self.min_side)
        return self._decoded[index]

    def validate_all(self) -> None:
        for index in range(len(self.positives) + len(self.negatives)):
            self.decoded(index)

    def vector(self, encoder: Encoder, index: int) -> np.ndarray:
        content = (self.positives + self.negatives)[index]
        return cached_image_vector(
            encoder=encoder, content=content, compute=lambda: encoder.encode_images([self.decoded(index)])[0]
        )

    def rocchio(self, encoder: Encoder) -> np.ndarray:
        n = len(self.positives)
        positive = np.mean([normalise(self.vector(encoder, i)) for i in range(n)], axis=0)
        if not self.negatives:
            return normalise(positive)
        negative = np.mean([normalise(self.vector(encoder, n + i)) for i in range(len(self.negatives))], axis=0)
        return normalise(positive - float(settings.SHOPLENS_SEARCH_NEGATIVE_WEIGHT) * negative)


def _text_vector(encoder: Encoder, text: str) -> np.ndarray:
    return cached_text_vector(encoder=encoder, text=text, compute=lambda form: encoder.encode_texts([form])[0])


def _loaded_encoder(name: str, space: EmbeddingSpace) -> Encoder | None:
    """The encoder, or None when it cannot load here or no longer matches the searched space."""
    from django.core.exceptions import ImproperlyConfigured

    if name not in settings.SHOPLENS_ENABLED_ENCODERS:
        return None
    try:
        encoder = get_encoder(name)
    except (*ENCODER_ERRORS, ImproperlyConfigured) as exc:
        logger.warning("Encoder %s unavailable for search: %s", name, exc)
        return None
    if encoder.version != space.model_version:
        logger.warning("Encoder %s is %s but the active space holds %s; skipped", name, encoder.version, space)
        return None
    return encoder


def _stored_product_vectors(
    product_id: int, wanted: list[str], spaces: Mapping[tuple[str, str], EmbeddingSpace]
) -> dict[str, np.ndarray]:
    by_space: dict[int, list[np.ndarray]] = {}
    image_space_ids = [spaces[SIGNAL_SPACES[n]].pk for n in wanted if SIGNAL_SPACES[n][1] == "image"]
    text_space_ids = [spaces[SIGNAL_SPACES[n]].pk for n in wanted if SIGNAL_SPACES[n][1] == "text"]
    rows = list(
        ImageEmbedding.objects.filter(product_id=product_id, space_id__in=image_space_ids).values_list(
            "space_id", "vector"
        )
    )
    if text_space_ids:
        rows += list(
            ProductTextEmbedding.objects.filter(product_id=product_id, space_id__in=text_space_ids).values_list(
                "space_id", "vector"
            )
        )
    for space_id, vector in rows:
        by_space.setdefault(space_id, []).append(normalise(np.asarray(vector)))
    vectors = {}
    for name in wanted:
        stored = by_space.get(spaces[SIGNAL_SPACES[name]].pk)
        if stored:
            vectors[name] = normalise(np.mean(stored, axis=0))
    return vectors
