"""The model field of embedding vectors: stored in half precision (pgvector ``halfvec``), read as
float32 numpy arrays like pgvector's ``VectorField`` (so code reading vectors does not care)."""

from __future__ import annotations

from typing import Any

import numpy as np
from pgvector.django import HalfVectorField


class HalfPrecisionVectorField(HalfVectorField):
    """``halfvec`` column of any width (each space's partial HNSW index casts to its own dimension).

    Half precision halves the heap and the index against ``vector``; every top 10 of
    ``bench_search`` stays the same (README, Benchmark data)."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> np.ndarray | None:  # type: ignore[override]
        return _as_array(super().from_db_value(value, expression, connection))

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, list | np.ndarray):
            return value
        return _as_array(super().to_python(value))


def _as_array(value: Any) -> np.ndarray | None:
    return None if value is None else np.asarray(value, dtype=np.float32)
