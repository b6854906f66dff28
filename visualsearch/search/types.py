"""The values every layer of search speaks: queries, hits, results, the signals and their spaces,
and the two ways a search can fail before it runs. Nothing here touches the database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import numpy as np

from catalog.models import Product, ProductImage

# signal -> (encoder whose active space is searched, modality of that space)
SIGNAL_SPACES: dict[str, tuple[str, str]] = {
    "clip": ("clip", "image"),
    "visual": ("visual", "image"),
    "clip_text": ("clip", "image"),
    "text": ("text", "text"),
}
IMAGE_SIGNALS = frozenset({"clip", "visual"})
TEXT_SIGNALS = frozenset({"clip_text", "text"})


class EmptyQuery(ValueError):
    """A search with neither photos, text nor a product."""


class SearchUnavailable(RuntimeError):
    """No encoder could embed the query (models missing or not indexed yet): the API answers
    503 and the pages say that search is unavailable, rather than "nothing found"."""


@dataclass(frozen=True)
class SearchQuery:
    """One of: photos (raw uploaded bytes; several = "more like these"), text, photos + text,
    or a product ("similar products", the product itself excluded)."""

    images: tuple[bytes, ...] = ()
    negative_images: tuple[bytes, ...] = ()
    text: str = ""
    product_id: int | None = None

    @property
    def kind(self) -> str:
        """image, text, image_text or product; ``EmptyQuery`` when there is nothing to search for."""
        if self.product_id is not None:
            return "product"
        text = self.text.strip()
        if self.images and text:
            return "image_text"
        if self.images:
            return "image"
        if text:
            return "text"
        raise EmptyQuery("Give a photo, a text or a product to search for.")


@dataclass(frozen=True)
class SearchHit:
    product: Product
    score: float  # weighted sum of the signals' cosine similarities
    match_percent: int  # 0-100, comparable across queries of one kind
    matched_image: ProductImage | None
    signals: dict[str, float] = field(default_factory=dict)  # per-encoder cosine similarity
    below_floor: bool = False  # under the query kind's SHOPLENS_SEARCH_RELEVANCE_FLOOR: not a match


@dataclass(frozen=True)
class SearchTimings:
    """Where a search's time went: the query encoders, the vector search, loading the hits."""

    encode_ms: float = 0.0
    search_ms: float = 0.0
    load_ms: float = 0.0
    total_ms: float = 0.0


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    query_time_ms: float
    encoders: tuple[str, ...]  # the encoders that contributed
    kind: str = ""  # image, text, image_text or product
    signals: tuple[str, ...] = ()  # the signals that contributed (clip, visual, clip_text, text)
    relevance_floor: int = 0  # match percent below which a hit is not a match

    @property
    def matches(self) -> list[SearchHit]:
        """The hits at or above the floor (they come first)."""
        return [hit for hit in self.hits if not hit.below_floor]

    search_id: uuid.UUID = field(default_factory=uuid.uuid4)  # names this answer (clicks refer to it)
    timings: SearchTimings = field(default_factory=SearchTimings)


def normalise(vector: np.ndarray) -> np.ndarray:
    """The vector as float32 of unit length (a zero vector stays zero)."""
    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector
