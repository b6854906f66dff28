"""Where an import row's photos come from: a local file (a regular one, within the size limit),
a URL mapped under ``--images-root``, or a download through ``SafeFetcher``."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings

from catalog.imaging import has_image_signature, not_image_message
from catalog.importers.fetch import FetchedImage, ImageFetchError, SafeFetcher, UnsafeURL

IMAGES_ROOT_MARKER = "product-images"


class ImageLoader:
    """Reads the photos a row names.

    - a path: relative to the source file's folder (absolute paths are used as they are);
    - an http(s) URL with ``images_root`` set: the URL path after its ``product-images/`` segment
      when it has one, else the whole URL path, under ``images_root`` (never outside it);
    - an http(s) URL otherwise: downloaded with ``SafeFetcher``.
    """

    def __init__(self, *, base_dir: Path, images_root: Path | None = None, fetcher: SafeFetcher | None = None) -> None:
        self.base_dir = base_dir
        self.images_root = images_root.resolve() if images_root else None
        self.fetcher = fetcher

    def load(self, reference: str) -> FetchedImage:
        scheme = urlsplit(reference).scheme.lower()
        if scheme in {"http", "https"}:
            if self.images_root is not None:
                return self._read_file(self.mapped_path(reference), reference)
            if self.fetcher is None:
                self.fetcher = SafeFetcher()
            return self.fetcher.fetch(reference)
        if scheme and len(scheme) > 1:  # "c:" is a drive letter, not a scheme
            raise UnsafeURL(f"{reference}: only http and https URLs are fetched")
        path = Path(reference)
        return self._read_file(path if path.is_absolute() else self.base_dir / path, reference)

    def mapped_path(self, url: str) -> Path:
        assert self.images_root is not None
        parts = [unquote(p) for p in urlsplit(url).path.split("/") if p]
        if IMAGES_ROOT_MARKER in parts:
            parts = parts[parts.index(IMAGES_ROOT_MARKER) + 1 :]
        path = self.images_root.joinpath(*parts).resolve()
        if not parts or not path.is_relative_to(self.images_root):
            raise ImageFetchError(f"{url}: maps outside --images-root")
        return path

    def _read_file(self, path: Path, reference: str) -> FetchedImage:
        """A regular file of at most the upload limit; devices, FIFOs and folders are refused
        from ``stat`` before they are opened (``/dev/zero`` would never end, a FIFO would block)."""
        max_bytes = int(settings.SHOPLENS_MAX_UPLOAD_BYTES)
        try:
            _check_regular(path.stat(), reference, max_bytes)
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(descriptor, "rb") as handle:
                _check_regular(os.fstat(handle.fileno()), reference, max_bytes)  # the file actually opened
                content = handle.read(max_bytes + 1)
        except FileNotFoundError:
            raise ImageFetchError(f"{reference}: no such file ({path})") from None
        except OSError as exc:
            raise ImageFetchError(f"{reference}: cannot read {path}: {exc.strerror}") from None
        if len(content) > max_bytes:
            raise ImageFetchError(f"{reference}: larger than the {max_bytes} byte limit")
        if not has_image_signature(content):
            raise ImageFetchError(f"{reference}: {not_image_message()}")
        return FetchedImage(content=content, name=path.name)


def _check_regular(status: os.stat_result, reference: str, max_bytes: int) -> None:
    if not stat.S_ISREG(status.st_mode):
        raise ImageFetchError(f"{reference}: not a regular file")
    if status.st_size > max_bytes:
        raise ImageFetchError(f"{reference}: larger than the {max_bytes} byte limit")
