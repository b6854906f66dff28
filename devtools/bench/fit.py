"""Measure real vectors and fit the structured generator to them.

    python manage.py shell -c "from devtools.bench import fit; fit.report()"

Real vectors are whatever the shop has indexed (e.g. the DummyJSON import and the demo
catalogue, told apart by SKU prefix); the generator is fitted per space by a small grid search
on LID at k = 10 and 20, nearest-neighbour cosine and random-pair cosine, at the real set's size.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, replace
from typing import Any

import numpy as np

from devtools.bench import lid
from devtools.bench.vectors import Structure, StructuredVectors

GRID: dict[str, tuple[float, ...]] = {
    "family_dims": (8, 16, 32, 64),
    "family_scale": (0.5, 1.0, 2.0),
    "variant_dims": (4, 8, 16, 32),
    "variant_spread": (0.1, 0.2, 0.4, 0.8),
}


def real_vectors(*, using: str = "default") -> dict[str, np.ndarray]:
    """``{"<catalogue>/<encoder>": rows}`` of the active spaces' stored vectors (photos or texts)."""
    from django.db import connections

    found: dict[str, list[np.ndarray]] = {}
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN p.sku LIKE 'DEMO-%%' THEN 'demo' ELSE 'dummyjson' END, s.encoder, e.vector::text "
            "FROM visualsearch_embeddingspace s JOIN visualsearch_imageembedding e ON e.space_id = s.id "
            "JOIN catalog_product p ON p.id = e.product_id WHERE s.status = 'active' "
            "UNION ALL SELECT CASE WHEN p.sku LIKE 'DEMO-%%' THEN 'demo' ELSE 'dummyjson' END, s.encoder, "
            "e.vector::text FROM visualsearch_embeddingspace s JOIN visualsearch_producttextembedding e "
            "ON e.space_id = s.id JOIN catalog_product p ON p.id = e.product_id WHERE s.status = 'active'"
        )
        for catalogue, encoder, text in cursor.fetchall():
            found.setdefault(f"{catalogue}/{encoder}", []).append(np.array(json.loads(text), dtype=np.float32))
    return {name: np.stack(rows) for name, rows in found.items()}


def same_product_cosine(*, using: str = "default") -> dict[str, float]:
    """Median cosine between two photos of one product, per image space: what a query photo is."""
    from django.db import connections

    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT s.encoder, percentile_cont(0.5) WITHIN GROUP (ORDER BY 1 - (a.vector <=> b.vector)) "
            "FROM visualsearch_imageembedding a JOIN visualsearch_imageembedding b "
            "ON a.product_id = b.product_id AND a.space_id = b.space_id AND a.image_id < b.image_id "
            "AND a.content_sha256 <> b.content_sha256 JOIN visualsearch_embeddingspace s ON s.id = a.space_id "
            "WHERE s.status = 'active' GROUP BY s.encoder"
        )
        return {encoder: round(float(value), 4) for encoder, value in cursor.fetchall()}


def generated_profile(structure: Structure, *, dimension: int, n: int, seed: int = 0) -> lid.VectorProfile:
    generator = StructuredVectors(dimension=dimension, products=n, structure=structure, seed=seed)
    return lid.profile(generator.vectors(np.arange(1, n + 1)))


def fit(target: lid.VectorProfile, *, dimension: int, base: Structure | None = None) -> tuple[Structure, float]:
    """The grid point whose profile at the target's size is closest to ``target`` (relative error)."""
    best: tuple[float, Structure] | None = None
    for values in itertools.product(*GRID.values()):
        chosen: dict[str, Any] = dict(zip(GRID, values, strict=True))
        structure = replace(base or Structure(), **chosen)
        got = generated_profile(structure, dimension=dimension, n=target.n)
        error = (
            abs(got.lid_k10 - target.lid_k10) / target.lid_k10
            + abs(got.lid_k20 - target.lid_k20) / target.lid_k20
            + abs(got.nearest_cosine - target.nearest_cosine)
            + abs(got.random_cosine - target.random_cosine)
        )
        if best is None or error < best[0]:
            best = (error, structure)
    assert best is not None
    return best[1], round(best[0], 4)


def report() -> None:
    """Print every real set's profile, the fitted structure per space and its profile at 100 000."""
    sets = real_vectors()
    profiles = {name: lid.profile(rows) for name, rows in sorted(sets.items())}
    print(
        json.dumps(
            {"real": {k: asdict(v) for k, v in profiles.items()}, "same_product_photo_cosine": same_product_cosine()}
        )
    )
    for name, target in profiles.items():
        if not name.startswith("dummyjson/"):
            continue
        dimension = sets[name].shape[1]
        structure, error = fit(target, dimension=dimension)
        at_scale = generated_profile(structure, dimension=dimension, n=100_000)
        print(json.dumps({"space": name, "fitted": asdict(structure), "error": error, "at_100000": asdict(at_scale)}))
