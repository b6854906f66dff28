"""Reading untrusted image bytes into clean RGB pictures.

Admin validation, API uploads and the encoders all go through ``read_image`` so an image that
one of them accepts is never refused (or crashes) in another.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Final, Protocol, TypeAlias

import numpy as np
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

if TYPE_CHECKING:
    from django.core.files import File

pillow_heif.register_heif_opener()  # HEIC/HEIF: what iPhones and many Android phones take

ALLOWED_FORMATS: Final = frozenset({"PNG", "JPEG", "MPO", "WEBP", "GIF", "HEIF"})  # MPO: phone JPEGs
DEFAULT_MAX_IMAGE_PIXELS: Final = 40_000_000
DEFAULT_MAX_UPLOAD_BYTES: Final = 10 * 1024 * 1024
# Long side at most this many times the short side. Encoders resize the short side to ~224 px, so a
# 1 x 60000 strip would become a multi-gigapixel image; 20:1 is past any real product photo
# (panoramas are ~4:1, banners ~8:1) and bounds every resize at 224 x 4480 pixels.
DEFAULT_MAX_ASPECT_RATIO: Final = 20
_SIXTEEN_BIT_MODES: Final = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})
_ALPHA_MODES: Final = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_READ_CHUNK: Final = 1024 * 1024
_SIGNATURES: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
_HEIF_BRANDS: Final = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})


class ImageRejected(ValueError):
    """An upload that is not an image we accept; ``str(exc)`` is written for end users."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class ImageInfo:
    """What the catalog stores about a photo; width/height are after EXIF orientation."""

    width: int
    height: int
    format: str
    sha256: str


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


ImageSource: TypeAlias = "bytes | bytearray | memoryview | IO[bytes] | File[bytes] | _Readable"


def read_image(
    source: ImageSource,
    *,
    max_pixels: int | None = None,
    max_bytes: int | None = None,
    min_side: int | None = None,
    max_aspect_ratio: int | None = None,
) -> Image.Image:
    """Decode ``source`` into a fully loaded, upright RGB image, or raise ``ImageRejected``.

    ``min_side``: the caller only needs an image at least this many pixels on each side, so a
    JPEG may be decoded at 1/2, 1/4 or 1/8 scale (libjpeg's scaled IDCT: several times faster,
    and the whole file is still decoded, so damage is still detected). File objects are read
    from the start and left at position 0 for whoever saves them next.
    """
    data = _read_bytes(source, _limit("SHOPLENS_MAX_UPLOAD_BYTES", max_bytes, DEFAULT_MAX_UPLOAD_BYTES))
    image, _ = _decode(data, _limits(max_pixels, max_aspect_ratio), min_side=min_side)
    return image


def image_info(
    source: ImageSource,
    *,
    max_pixels: int | None = None,
    max_bytes: int | None = None,
    max_aspect_ratio: int | None = None,
) -> ImageInfo:
    """Validate ``source`` exactly like ``read_image`` and describe it for ``ProductImage``."""
    data = _read_bytes(source, _limit("SHOPLENS_MAX_UPLOAD_BYTES", max_bytes, DEFAULT_MAX_UPLOAD_BYTES))
    image, image_format = _decode(data, _limits(max_pixels, max_aspect_ratio))
    return ImageInfo(
        width=image.width,
        height=image.height,
        format=image_format,
        sha256=hashlib.sha256(data).hexdigest(),
    )


@dataclass(frozen=True)
class _Limits:
    pixels: int
    aspect_ratio: int


def _limits(max_pixels: int | None, max_aspect_ratio: int | None) -> _Limits:
    return _Limits(
        pixels=_limit("SHOPLENS_MAX_IMAGE_PIXELS", max_pixels, DEFAULT_MAX_IMAGE_PIXELS),
        aspect_ratio=_limit("SHOPLENS_MAX_IMAGE_ASPECT_RATIO", max_aspect_ratio, DEFAULT_MAX_ASPECT_RATIO),
    )


def has_image_signature(data: bytes) -> bool:
    """A cheap first look (no decoding): do the bytes start like a PNG, JPEG, GIF, WebP or HEIC?"""
    return data.startswith(_SIGNATURES) or _is_webp(data) or (data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS)


def _limit(setting_name: str, explicit: int | None, default: int) -> int:
    """Explicit argument, else the Django setting when settings exist, else the built-in default."""
    if explicit is not None:
        return explicit
    from django.conf import settings

    if settings.configured:
        return int(getattr(settings, setting_name, default))
    return default


def _read_bytes(source: ImageSource, max_bytes: int) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if len(data) > max_bytes:
            raise _too_large(len(data), max_bytes)
        return data

    declared = _declared_size(source)
    if declared is not None and declared > max_bytes:
        raise _too_large(declared, max_bytes)
    reopen = getattr(source, "open", None)
    if getattr(source, "closed", False) and reopen is not None:
        reopen("rb")  # a Django FieldFile closed after save
    _seek_start(source)
    try:
        chunks: list[bytes] = []
        remaining = max_bytes + 1  # one byte more than allowed proves the file is too big
        while remaining > 0:
            chunk = source.read(min(remaining, _READ_CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    finally:
        _seek_start(source)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise _too_large(declared or len(data), max_bytes)
    return data


def _declared_size(source: object) -> int | None:
    try:
        size = getattr(source, "size", None)
    except (OSError, ValueError):
        return None
    return size if isinstance(size, int) else None


def _seek_start(source: object) -> None:
    seek = getattr(source, "seek", None)
    if seek is not None:
        with contextlib.suppress(OSError, ValueError):  # a pipe or closed stream: nothing to rewind
            seek(0)


def _decode(data: bytes, limits: _Limits, *, min_side: int | None = None) -> tuple[Image.Image, str]:
    if not data:
        raise ImageRejected("The file is empty.", code="empty")
    try:
        opened = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise ImageRejected(_too_many_pixels_message(None, limits.pixels), code="too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        # A known signature that fails to open is a damaged upload, not a wrong kind of file.
        raise (_truncated() if has_image_signature(data) else _not_image()) from None

    with opened as image:
        image_format = image.format or ""
        if image_format not in ALLOWED_FORMATS:
            raise ImageRejected(
                f"{image_format or 'This'} images are not supported; please upload a PNG, JPEG, WebP, GIF or HEIC.",
                code="unsupported_format",
            )
        # Checked from the header alone, before a single pixel is decoded.
        if image.width * image.height > limits.pixels:
            raise ImageRejected(_too_many_pixels_message(image.size, limits.pixels), code="too_many_pixels")
        if max(image.size) > limits.aspect_ratio * max(min(image.size), 1):
            raise ImageRejected(_out_of_proportion_message(image.size, limits.aspect_ratio), code="out_of_proportion")
        if _looks_truncated(data, image_format):
            raise _truncated()
        try:
            if min_side and image_format in ("JPEG", "MPO"):
                image.draft(None, (min_side, min_side))
            image.load()
            upright = _exif_upright(image)
        except (
            OSError,
            SyntaxError,
            ValueError,
            EOFError,
            Image.DecompressionBombError,
        ):
            raise _truncated() from None
    return _to_rgb(upright), "JPEG" if image_format == "MPO" else image_format


def _looks_truncated(data: bytes, image_format: str) -> bool:
    """Structural end-of-file checks that hold even when ``ImageFile.LOAD_TRUNCATED_IMAGES`` is on."""
    if image_format in {"JPEG", "MPO"}:
        # The main image's last scan (SOS) must be followed by an end-of-image marker.
        return data.rfind(b"\xff\xd9") < data.rfind(b"\xff\xda")
    if image_format == "PNG":
        return b"IEND" not in data
    if image_format == "WEBP":
        return len(data) < int.from_bytes(data[4:8], "little") + 8
    return False


def _is_webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def _exif_upright(image: Image.Image) -> Image.Image:
    """A detached copy turned the way the camera meant; broken EXIF just leaves it as stored."""
    try:
        return ImageOps.exif_transpose(image)
    except (KeyError, ValueError, TypeError, SyntaxError, OSError):
        return image.copy()


def _to_rgb(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in _SIXTEEN_BIT_MODES:
        pixels = np.asarray(image, dtype=np.float32)
        if mode.startswith("I;16") or pixels.max(initial=0.0) > 255:
            pixels = pixels / 257.0  # 0..65535 onto 0..255
        grey = np.clip(pixels, 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _too_large(size: int, limit: int) -> ImageRejected:
    return ImageRejected(
        f"The file is too large ({_human_size(size)}); the limit is {_human_size(limit)}.",
        code="too_large",
    )


def _human_size(size: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def _too_many_pixels_message(size: tuple[int, int] | None, limit: int) -> str:
    dimensions = f" ({size[0]}×{size[1]} pixels)" if size else ""
    return f"The image is too large{dimensions}; the limit is {limit / 1_000_000:g} megapixels."


def _out_of_proportion_message(size: tuple[int, int], ratio: int) -> str:
    return (
        f"The image is too narrow ({size[0]}×{size[1]} pixels): its long side may be at most "
        f"{ratio:g} times its short side. Please crop it to the product."
    )


def not_image_message() -> str:
    return "The file is not an image we can read (PNG, JPEG, WebP, GIF, HEIC)."


def _not_image() -> ImageRejected:
    return ImageRejected(not_image_message(), code="not_image")


def _truncated() -> ImageRejected:
    return ImageRejected(
        "The image file is incomplete or damaged; please upload it again.",
        code="truncated",
    )
