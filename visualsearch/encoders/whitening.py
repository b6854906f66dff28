"""PCA-whitening of the visual encoder's CNN descriptors, fitted on a shop's own photos.

Whitening evens out the few directions every product photo shares (studio light, white
backdrops), so the distances left are the ones that tell products apart, and it shortens the
vector. A rotation (``fit_rotation``) keeps every distance as it is and only orders the
components by how much of the photos' vectors they carry, so that an HNSW index over the
leading ones (``index_dimensions``) finds the candidates that the whole vector then scores.
The fitted parameters are a file; its content hash is part of the encoder's version, so
switching to it fills a new embedding space beside the one that serves.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .base import EncoderUnavailable, l2_normalise


class WhiteningError(ValueError):
    """Too few photos to fit, or a file that is not a whitening; ``str(exc)`` says which."""


@dataclass(frozen=True)
class Whitening:
    """``(x - mean) @ projection``, then unit length; fitted for one encoder configuration."""

    mean: np.ndarray  # (d,)
    projection: np.ndarray  # (d, k)
    source_version: str  # the unwhitened encoder version it was fitted on
    photos: int  # how many photos it was fitted on
    index_dimensions: int = 0  # leading components the HNSW index covers (0: all)

    @property
    def components(self) -> int:
        return int(self.projection.shape[1])

    def apply(self, rows: np.ndarray) -> np.ndarray:
        """Whitened unit rows of width ``components``."""
        return l2_normalise((np.asarray(rows, dtype=np.float32) - self.mean) @ self.projection)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(
            buffer,
            mean=self.mean.astype(np.float32),
            projection=self.projection.astype(np.float32),
            source_version=np.array(self.source_version),
            photos=np.array(self.photos),
            index_dimensions=np.array(self.index_dimensions),
        )
        return buffer.getvalue()


def fit_whitening(rows: np.ndarray, *, components: int, shrinkage: float, source_version: str) -> Whitening:
    """PCA of ``rows`` (one unit descriptor per photo), each kept component scaled by
    1 / sqrt(variance + shrinkage x mean variance): shrinkage keeps rare directions from being
    blown up when there are few photos."""
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[0] < 3:
        raise WhiteningError(f"Whitening needs at least 3 photos; got {rows.shape[0] if rows.ndim == 2 else 0}.")
    if components < 1:
        raise WhiteningError("The number of components must be at least 1.")
    if shrinkage < 0:
        raise WhiteningError("Shrinkage must not be negative.")
    mean = rows.mean(axis=0)
    _, singular, basis = np.linalg.svd(rows - mean, full_matrices=False)
    variance = singular**2 / (rows.shape[0] - 1)
    keep = min(components, int((variance > variance[0] * 1e-9).sum()))
    scale = 1.0 / np.sqrt(variance[:keep] + shrinkage * variance[:keep].mean())
    return Whitening(
        mean=mean.astype(np.float32),
        projection=(basis[:keep].T * scale).astype(np.float32),
        source_version=source_version,
        photos=int(rows.shape[0]),
    )


def fit_rotation(rows: np.ndarray, *, source_version: str, index_dimensions: int = 0) -> Whitening:
    """The rotation that orders the components of ``rows`` by their share of the rows' squared
    norm (eigenvectors of the uncentred second moment, every one kept, none scaled): cosine
    similarities stay what they were, and the first components carry the most of each vector."""
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[0] < 3:
        raise WhiteningError(f"A rotation needs at least 3 photos; got {rows.shape[0] if rows.ndim == 2 else 0}.")
    if not 0 <= index_dimensions <= rows.shape[1]:
        raise WhiteningError(f"The index covers 0 to {rows.shape[1]} components, not {index_dimensions}.")
    _, basis = np.linalg.eigh(rows.T @ rows)  # ascending eigenvalues
    return Whitening(
        mean=np.zeros(rows.shape[1], dtype=np.float32),
        projection=np.ascontiguousarray(basis[:, ::-1]).astype(np.float32),
        source_version=source_version,
        photos=int(rows.shape[0]),
        index_dimensions=int(index_dimensions),
    )


def energy_share(rows: np.ndarray, rotation: Whitening, components: int) -> float:
    """Share of the rotated ``rows``' squared norm in their first ``components`` (1.0: the index
    over them sees the whole vectors)."""
    rotated = (np.asarray(rows, dtype=np.float32) - rotation.mean) @ rotation.projection
    return float((rotated[:, :components] ** 2).sum() / max((rotated**2).sum(), 1e-12))


def load_whitening(path: str | Path) -> tuple[Whitening, str]:
    """The whitening stored at ``path`` and the short hash of its bytes (for the version)."""
    path = Path(path).expanduser()
    try:
        content = path.read_bytes()
        with np.load(io.BytesIO(content), allow_pickle=False) as stored:
            whitening = Whitening(
                mean=stored["mean"].astype(np.float32),
                projection=stored["projection"].astype(np.float32),
                source_version=str(stored["source_version"]),
                photos=int(stored["photos"]),
                index_dimensions=int(stored["index_dimensions"]) if "index_dimensions" in stored.files else 0,
            )
    except (OSError, ValueError, KeyError) as error:
        raise EncoderUnavailable(
            f"VISUAL_WHITENING={path} is not a whitening file written by fit_visual_whitening ({error}); "
            "fit one or unset VISUAL_WHITENING."
        ) from error
    return whitening, hashlib.sha256(content).hexdigest()[:12]
