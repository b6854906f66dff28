"""The LID estimate finds a known dimension, and the structured benchmark data has the structure
it claims: families of close variants, more families as the catalogue grows, query photos as
far from their product as the fitted spread says."""

from __future__ import annotations

import numpy as np

from devtools.bench import lid
from devtools.bench.vectors import Structure, StructuredVectors, for_space


def test_lid_of_points_filling_a_subspace_is_its_dimension() -> None:
    rng = np.random.default_rng(0)
    basis, _ = np.linalg.qr(rng.standard_normal((64, 6)))
    points = rng.standard_normal((4000, 6)) @ basis.T
    distances = lid.nearest_distances(lid.unit_rows(points), np.arange(500), 20)
    assert 4.5 < lid.lid_mle(distances) < 7.0  # unit-normalised: a 5-sphere in 6 directions


def test_repeated_vectors_are_dropped_before_measuring() -> None:
    rows = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    assert len(lid.distinct_rows(rows)) == 2


def test_variants_of_a_family_are_closer_than_other_families() -> None:
    generator = StructuredVectors(dimension=256, products=4000, structure=Structure(family_size=8), seed=1)
    vectors = generator.vectors(np.arange(1, 4001))
    families = generator.family_of(np.arange(1, 4001))
    same = [float(vectors[i] @ vectors[i + 1]) for i in range(0, 4000, 8)]
    other = [float(vectors[i] @ vectors[i + 8]) for i in range(0, 3992, 8)]
    assert families[0] == families[7] != families[8]
    assert np.median(same) > np.median(other) + 0.2


def test_the_number_of_families_grows_with_the_catalogue() -> None:
    small = StructuredVectors(dimension=64, products=1000, structure=Structure(), seed=0)
    large = StructuredVectors(dimension=64, products=100_000, structure=Structure(), seed=0)
    assert len(large.family_coordinates) == 100 * len(small.family_coordinates) - 99


def test_a_query_photo_is_as_far_from_its_product_as_two_real_photos() -> None:
    generator = for_space("visual", 1308, products=2000, seed=0)
    stored = generator.vectors(np.arange(1, 2001))
    photos = generator.photos_of(stored[:200], np.random.default_rng(3))
    assert 0.65 < float(np.median(np.sum(photos * stored[:200], axis=1))) < 0.76  # DummyJSON: 0.705


def test_the_generator_is_deterministic() -> None:
    first = for_space("text", 384, products=100, seed=4).vectors(np.arange(1, 101))
    again = for_space("text", 384, products=100, seed=4).vectors(np.arange(1, 101))
    assert np.array_equal(first, again)


def test_rotated_vectors_are_the_same_catalogue_with_its_energy_in_the_first_components() -> None:
    plain = for_space("visual", 1308, products=3000, seed=0)
    rotated = for_space("visual", 1308, products=3000, seed=0, rotated=True)
    ids = np.arange(1, 3001)
    a, b = plain.vectors(ids), rotated.vectors(ids)
    assert np.allclose(a[:50] @ a[:50].T, b[:50] @ b[:50].T, atol=0.02)  # the same similarities (floor redrawn)
    assert float((b[:, :128] ** 2).sum() / (b**2).sum()) > 0.95
    assert float((a[:, :128] ** 2).sum() / (a**2).sum()) < 0.2
    photos = rotated.photos_of(b[:200], np.random.default_rng(3))
    assert 0.65 < float(np.median(np.sum(photos * b[:200], axis=1))) < 0.76
