"""Local intrinsic dimensionality (LID) of a set of embeddings, to make benchmark data as hard as
real data and no harder: graph indexes lose recall in proportion to it.

Levina and Bickel's maximum-likelihood estimate at a point x from its k nearest neighbours at
distances T_1 <= ... <= T_k is ``(k - 1) / sum_j log(T_k / T_j)``; the set's figure is the
harmonic mean over points (MacKay and Ghahramani's correction of the plain mean's bias).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK = 256


@dataclass(frozen=True)
class VectorProfile:
    """What the generator is fitted to: LID at two neighbourhood sizes and typical cosines."""

    n: int
    lid_k10: float
    lid_k20: float
    nearest_cosine: float  # median cosine of a vector to its nearest neighbour
    random_cosine: float  # median cosine between two random vectors of the set


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def distinct_rows(vectors: np.ndarray) -> np.ndarray:
    """Drop repeated vectors (the same photo file twice): a zero distance has no dimension."""
    _, first = np.unique(np.round(unit_rows(vectors), 5), axis=0, return_index=True)
    return unit_rows(vectors)[np.sort(first)]


def nearest_distances(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Euclidean distances (unit vectors: sqrt(2 - 2 cos)) from each query row index to its k
    nearest other rows, ascending: shape (len(queries), k)."""
    out = np.empty((len(queries), k), dtype=np.float64)
    for start in range(0, len(queries), CHUNK):
        rows = queries[start : start + CHUNK]
        cosines = vectors[rows] @ vectors.T
        cosines[np.arange(len(rows)), rows] = -np.inf  # not its own neighbour
        part = -np.partition(-cosines, k - 1, axis=1)[:, :k]
        part = -np.sort(-part, axis=1)
        out[start : start + len(rows)] = np.sqrt(np.maximum(2.0 - 2.0 * part, 1e-12))
    return out


def lid_mle(distances: np.ndarray) -> float:
    """The set's LID from each point's ascending neighbour distances (Levina-Bickel, harmonic mean)."""
    k = distances.shape[1]
    logs = np.log(distances[:, -1:] / distances[:, :-1]).sum(axis=1)
    inverse = logs / (k - 1)  # 1 / m_k(x)
    return float(1.0 / np.mean(inverse))


def profile(vectors: np.ndarray, *, sample: int = 1000, seed: int = 0) -> VectorProfile:
    """LID (k = 10 and 20) and cosines of ``vectors``, estimated at up to ``sample`` points."""
    vectors = distinct_rows(vectors)
    rng = np.random.default_rng(seed)
    queries = rng.choice(len(vectors), size=min(sample, len(vectors)), replace=False)
    distances = nearest_distances(vectors, queries, 20)
    pairs = rng.integers(0, len(vectors), size=(2000, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return VectorProfile(
        n=len(vectors),
        lid_k10=round(lid_mle(distances[:, :10]), 2),
        lid_k20=round(lid_mle(distances), 2),
        nearest_cosine=round(float(np.median(1.0 - distances[:, 0] ** 2 / 2.0)), 4),
        random_cosine=round(float(np.median(np.sum(vectors[pairs[:, 0]] * vectors[pairs[:, 1]], axis=1))), 4),
    )
