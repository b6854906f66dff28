"""Benchmark vectors with the structure of real product embeddings (``--data structured``).

Real catalogues are families of products (one model in several colours, sizes, finishes) whose
photos embed close together, and the families themselves spread over a low-dimensional part of
the space; the number of families grows with the catalogue. Isotropic random clusters
(``--data random``, the older generator) are much harder for a graph index than that (higher
local intrinsic dimensionality, devtools/bench/lid.py) and get harder as N grows.

A product p of family f is ``normalise(mean + F z_f + V u_p + e_p)``: ``mean`` a direction all
vectors share (real spaces are anisotropic), ``F`` an orthonormal basis of ``family_dims``
directions with z_f ~ N(0, family_scale^2 I / family_dims), ``V`` one of ``variant_dims``
directions with u_p ~ N(0, variant_spread^2 I / variant_dims), ``e_p`` a small isotropic floor.

A second photo of a product (a query) moves its vector by ``photo_spread``: mostly along
``view_dims`` directions that no product owns (pose, light, background change every product's
photos alike), and a share ``variant_share`` of the move along the variant directions, the part
that makes it look like a sibling variant. With photo_spread 1.0 the query's cosine to its
product is 0.71, as two DummyJSON photos of one product have; which products are nearest to it
is then what the index must find. (A first model moved the whole spread along the variant
directions: the query then sat nearer to sibling variants than to its own product and even an
exact scan found that product in the top 10 for 8 % of queries at 100 000 products, so the
measure said nothing about the index. How often a real encoder confuses views is eval_search's
question, on real photos.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from visualsearch.encoders.whitening import fit_rotation


@dataclass(frozen=True)
class Structure:
    """Generator parameters of one embedding space (fitted to measured LID: see FITTED)."""

    family_size: int = 8  # products per family: N // family_size families
    family_dims: int = 16
    family_scale: float = 1.0  # spread of family centres relative to the shared mean direction
    variant_dims: int = 8
    variant_spread: float = 0.3
    floor: float = 0.03  # norm of the isotropic noise
    photo_spread: float = 0.25  # how far a second photo of the product moves its vector
    view_dims: int = 16  # directions along which a second photo moves, shared by every product
    variant_share: float = 0.1  # share of the move (in squared norm) along the variant directions


# Fitted by devtools/bench/fit.py (grid search) to the DummyJSON catalogue's vectors: visual
# (426 distinct photos, LID 11.6 at k = 10, 13.0 at k = 20) and text (100 products, LID 10.8 /
# 12.8). photo_spread 1.0 gives a query a cosine of 0.71 to its source, as two photos of one
# DummyJSON product have (median 0.705). CLIP, not downloadable here, takes the visual structure.
FITTED: dict[str, Structure] = {
    "text": Structure(family_dims=64, family_scale=0.5, variant_dims=16, variant_spread=0.8, photo_spread=0.0),
    "visual": Structure(family_dims=64, family_scale=0.5, variant_dims=8, variant_spread=0.8, photo_spread=1.0),
}


DATA_VERSION = "bench-structured-v2"  # the spaces' model_version; a change of FITTED needs a new one


ROTATION_SAMPLE = 20_000  # vectors a rotation is fitted on, as fit_visual_whitening --rotation reads photos


def for_space(encoder: str, dimension: int, *, products: int, seed: int, rotated: bool = False) -> StructuredVectors:
    """The generator of one space: its fitted structure (CLIP, with no real vectors to measure
    here, takes the visual space's), seeded per space so that spaces differ but families agree.
    ``rotated``: its vectors as an encoder with a fitted rotation stores them (the rotation
    fitted on the first ``ROTATION_SAMPLE`` products, by the code the encoder's fit uses)."""
    structure = FITTED.get(encoder, FITTED["visual"])
    offset = sorted(FITTED).index(encoder) if encoder in FITTED else len(FITTED)

    def generator() -> StructuredVectors:
        return StructuredVectors(dimension=dimension, products=products, structure=structure, seed=seed * 101 + offset)

    if not rotated:
        return generator()
    sample = generator().vectors(np.arange(1, min(products, ROTATION_SAMPLE) + 1))
    return generator().rotate(fit_rotation(sample, source_version="bench").projection)


class StructuredVectors:
    """The vectors of one space for products 1..n, deterministic in ``seed``."""

    def __init__(self, *, dimension: int, products: int, structure: Structure, seed: int) -> None:
        self.dimension = dimension
        self.structure = structure
        rng = np.random.default_rng(seed)
        width = 1 + structure.family_dims + structure.variant_dims + structure.view_dims
        if width > dimension:
            raise ValueError(f"{width} structure directions do not fit in {dimension} dimensions")
        basis, _ = np.linalg.qr(rng.standard_normal((dimension, width)).astype(np.float32))
        self.mean = basis[:, 0]
        self.family_basis = basis[:, 1 : 1 + structure.family_dims]
        self.variant_basis = basis[:, 1 + structure.family_dims : width - structure.view_dims]
        self.view_basis = basis[:, width - structure.view_dims :]
        families = products // structure.family_size + 1
        self.family_coordinates = rng.standard_normal((families, structure.family_dims)) * (
            structure.family_scale / np.sqrt(structure.family_dims)
        )
        self._rng = np.random.default_rng([seed, 1])

    def rotate(self, rotation: np.ndarray) -> StructuredVectors:
        """Generate ``x @ rotation`` from now on (the floor is isotropic, so it stays as it is)."""
        self.mean = self.mean @ rotation
        self.family_basis, self.variant_basis, self.view_basis = (
            rotation.T @ basis for basis in (self.family_basis, self.variant_basis, self.view_basis)
        )
        return self

    def family_of(self, product_ids: np.ndarray) -> np.ndarray:
        return (np.asarray(product_ids) - 1) // self.structure.family_size

    def vectors(self, product_ids: np.ndarray) -> np.ndarray:
        """Unit vectors of ``product_ids``; call with consecutive blocks (the variants are drawn in order)."""
        s = self.structure
        n = len(product_ids)
        centres = self.mean + self.family_coordinates[self.family_of(product_ids)] @ self.family_basis.T
        variants = self._rng.standard_normal((n, s.variant_dims)) * (s.variant_spread / np.sqrt(s.variant_dims))
        block = centres + variants @ self.variant_basis.T + self._floor(n)
        return _unit(block.astype(np.float32))

    def photos_of(self, stored: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A second photo of each stored vector: moved along the view and (a little) the variant
        directions, plus the floor."""
        s = self.structure
        n = len(stored)
        variant = _unit(rng.standard_normal((n, s.variant_dims)) @ self.variant_basis.T) * np.sqrt(s.variant_share)
        view = _unit(rng.standard_normal((n, s.view_dims)) @ self.view_basis.T) * np.sqrt(1 - s.variant_share)
        moves = _unit(variant + view) * s.photo_spread
        return _unit(stored + moves + self._floor(n, rng)).astype(np.float32)

    def _floor(self, n: int, rng: np.random.Generator | None = None) -> np.ndarray:
        noise = (rng or self._rng).standard_normal((n, self.dimension)).astype(np.float32)
        return _unit(noise) * self.structure.floor


def _unit(block: np.ndarray) -> np.ndarray:
    return block / np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)
