"""Thumbnails of product photos (django-imagekit), made ahead of time by the indexing task.

Every photo gets each width of ``WIDTHS`` in WebP and in JPEG (the fallback), fitted inside a
square of that side and never enlarged. Their names derive from the photo's name and the spec, so
a page computes every URL without touching storage or a cache (imagekit's "optimistic" strategy).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from django.core.files.base import File
from django.db.models.fields.files import FieldFile
from imagekit import ImageSpec
from imagekit.cachefiles import ImageCacheFile
from imagekit.processors import ResizeToFit
from PIL import Image, ImageOps

from catalog.models import IndexingStatus, ProductImage

logger = logging.getLogger(__name__)

WIDTHS: tuple[int, ...] = (160, 320, 640, 1024)
FORMATS: dict[str, tuple[str, dict[str, object]]] = {
    "webp": ("WEBP", {"quality": 80, "method": 4}),
    "jpeg": ("JPEG", {"quality": 82, "optimize": True, "progressive": True}),
}


@dataclass(frozen=True)
class Thumbnail:
    url: str
    width: int
    height: int
    format: str


@cache
def _spec(width: int, kind: str) -> type[ImageSpec]:
    image_format, options = FORMATS[kind]
    attributes = {"processors": [ResizeToFit(width, width, upscale=False)], "format": image_format, "options": options}
    return type(f"Thumbnail{width}{kind.title()}", (ImageSpec,), attributes)


def _cache_file(source: FieldFile | File, width: int, kind: str) -> ImageCacheFile:
    return ImageCacheFile(_spec(width, kind)(source=source))


@lru_cache(maxsize=65536)
def _url(photo_name: str, width: int, kind: str) -> str:
    """imagekit derives a name by pickling and hashing the spec (about 0.2 ms); a listing asks
    for hundreds, so each process remembers them (they never change for a photo name)."""
    return str(_cache_file(File(None, name=photo_name), width, kind).url)


def _fitted(image: ProductImage, width: int) -> tuple[int, int]:
    """The size ResizeToFit gives a photo of the stored size in a square of ``width``."""
    if not image.width or not image.height:
        return width, width
    ratio = min(1.0, width / max(image.width, image.height, 1))
    return max(1, round(image.width * ratio)), max(1, round(image.height * ratio))


def thumbnails(image: ProductImage, kind: str = "webp") -> list[Thumbnail]:
    """The thumbnails of one photo in one format, smallest first; widths that would only repeat
    the original's size are left out."""
    result: list[Thumbnail] = []
    for width in WIDTHS:
        size = _fitted(image, width)
        if result and size[0] == result[-1].width:
            break
        result.append(Thumbnail(_url(image.image.name, width, kind), size[0], size[1], kind))
    return result


def thumbnail_url(image: ProductImage, width: int = 320, kind: str = "jpeg") -> str | None:
    """The URL of one thumbnail, or None while the photo has none yet (not indexed)."""
    return _url(image.image.name, width, kind) if has_thumbnails(image) else None


def has_thumbnails(image: ProductImage) -> bool:
    """Thumbnails are written when the photo is indexed; until then pages show the original."""
    return image.indexing_status == IndexingStatus.READY and bool(image.image)


def srcset(image: ProductImage, kind: str) -> str:
    return ", ".join(f"{thumb.url} {thumb.width}w" for thumb in thumbnails(image, kind))


def generate_thumbnails(images: Iterable[ProductImage], *, force: bool = False) -> int:
    """Write the missing thumbnails of ``images``; each photo is decoded once. Returns how many
    files were written. A photo that cannot be read is logged and skipped (its indexing says why)."""
    written = 0
    storage = None
    for image in images:
        files = {(w, k): _cache_file(image.image, w, k) for w in WIDTHS for k in FORMATS}
        storage = storage or next(iter(files.values())).storage
        missing = [key for key, file in files.items() if force or not storage.exists(file.name)]
        if not missing:
            continue
        try:
            source = _downscaled_source(image, max(WIDTHS))
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            logger.warning("No thumbnails for photo %s: %s", image.pk, exc)
            continue
        for width, kind in missing:
            # The spec reads the decoded, downscaled copy; names still derive from the photo.
            _cache_file(source, width, kind).generate(force=True)
            written += 1
    return written


def _downscaled_source(image: ProductImage, side: int) -> File:
    with image.image.open("rb") as handle, Image.open(handle) as opened:
        opened.draft("RGB", (side, side))
        picture = ImageOps.exif_transpose(opened).convert("RGB")
    picture.thumbnail((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="TIFF")  # lossless and quick to write and read back
    buffer.seek(0)
    return File(buffer, name=image.image.name)
