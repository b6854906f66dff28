"""Photo searches a shopper can come back to: Back, reload and a shared link show the same results.

A photo search POST stores each photo (upright, at most ``SHOPLENS_QUERY_PHOTO_MAX_SIDE`` pixels,
JPEG) in the cache under its SHA-256, and the list of photos with their crops under a short query
id; the page then redirects to ``/search/?query=<id>``. Photos live as long as their query vectors
(``SHOPLENS_QUERY_EMBEDDING_CACHE_SECONDS``); an expired query asks for the photo again. Searches
always run on the stored photo, so the first page and every later visit rank the same way.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from PIL import Image

from catalog.imaging import read_image
from visualsearch.search.crop import Crop, cropped_photo, parse_crop

logger = logging.getLogger(__name__)
QUERY_ID = re.compile(r"^[0-9a-f]{20}$")
KEEP_AS_UPLOADED_BYTES = 1024 * 1024
WEB_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class QueryPhoto:
    sha256: str
    crop: Crop | None = None


@dataclass(frozen=True)
class PhotoQuery:
    query_id: str
    photos: tuple[QueryPhoto, ...]


def _ttl() -> int:
    return int(settings.SHOPLENS_QUERY_EMBEDDING_CACHE_SECONDS)


def stored_photo(content: bytes) -> bytes:
    """The photo as it is kept and searched: as uploaded when a browser can show it and it is small
    enough (so its cached vectors are reused), else upright RGB JPEG with the longest side capped."""
    image = read_image(content)
    side = int(settings.SHOPLENS_QUERY_PHOTO_MAX_SIDE)
    if max(image.size) <= side and len(content) <= KEEP_AS_UPLOADED_BYTES and _web_format(content):
        return content
    image.thumbnail((side, side))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def save_photo_query(photos: Sequence[tuple[bytes, Crop | None]]) -> PhotoQuery:
    """Store validated photos (raw uploads) and their crops; returns the query to redirect to."""
    kept = []
    for content, crop in photos:
        data = stored_photo(content)
        digest = hashlib.sha256(data).hexdigest()
        _cache_set(f"query-photo:{digest}", data)
        kept.append(QueryPhoto(digest, crop))
    return _save(tuple(kept))


def _save(photos: tuple[QueryPhoto, ...]) -> PhotoQuery:
    record = [[photo.sha256, photo.crop.as_text() if photo.crop else ""] for photo in photos]
    encoded = json.dumps(record)
    query_id = hashlib.sha256(encoded.encode()).hexdigest()[:20]
    _cache_set(f"photo-query:{query_id}", encoded)
    return PhotoQuery(query_id, photos)


def load_photo_query(query_id: str) -> PhotoQuery | None:
    """The stored query, or None when the id is malformed, unknown or expired."""
    if not QUERY_ID.match(query_id or ""):
        return None
    encoded = _cache_get(f"photo-query:{query_id}")
    try:
        record = json.loads(encoded) if isinstance(encoded, str) else None
        photos = tuple(QueryPhoto(str(sha), parse_crop(str(crop))) for sha, crop in record or ())
    except (ValueError, TypeError):
        return None
    return PhotoQuery(query_id, photos) if photos else None


def without_photo(query: PhotoQuery, index: int) -> PhotoQuery | None:
    """The query with one photo removed (a new id), or None when none is left."""
    rest = tuple(photo for n, photo in enumerate(query.photos) if n != index)
    return _save(rest) if rest else None


def with_crop(query: PhotoQuery, index: int, crop: Crop | None) -> PhotoQuery:
    """The query with photo ``index`` searched only inside ``crop`` (a new id); IndexError if none."""
    photos = list(query.photos)
    photos[index] = QueryPhoto(photos[index].sha256, crop)
    return _save(tuple(photos))


def photo_bytes(sha256: str) -> bytes | None:
    if not SHA256.match(sha256 or ""):
        return None
    data = _cache_get(f"query-photo:{sha256}")
    return data if isinstance(data, bytes) else None


def search_images(query: PhotoQuery) -> tuple[bytes, ...] | None:
    """The (cropped) photos to search with, or None when any of them has expired."""
    images = []
    for photo in query.photos:
        data = photo_bytes(photo.sha256)
        if data is None:
            return None
        images.append(cropped_photo(data, photo.crop))
    return tuple(images)


def _web_format(content: bytes) -> str | None:
    """The MIME type of a photo every browser shows (not HEIC), else None."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            return WEB_TYPES.get(image.format or "")
    except (OSError, ValueError):
        return None


def photo_type(content: bytes) -> str:
    return _web_format(content) or "image/jpeg"


def _cache_set(key: str, value: bytes | str) -> None:
    try:
        cache.set(key, value, timeout=_ttl())
    except Exception:  # the search still runs; only coming back to it is lost
        logger.warning("Could not keep a photo search in the cache", exc_info=True)


def _cache_get(key: str) -> object:
    try:
        return cache.get(key)
    except Exception:
        logger.warning("Photo search cache unavailable", exc_info=True)
        return None
