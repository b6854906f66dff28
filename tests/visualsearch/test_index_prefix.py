"""A space whose HNSW index covers the leading components of rotated vectors only
(``EmbeddingSpace.index_dimension``): the rotation, the index, and search scoring on the whole vector."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from catalog.criteria import ProductCriteria
from catalog.models import ProductImage
from tests.encoder_fixtures import Shape
from tests.factories import product_with_drawn_photos
from visualsearch import indexing
from visualsearch.encoders import get_encoder, reset_encoders
from visualsearch.encoders.base import Encoder
from visualsearch.encoders.whitening import WhiteningError, energy_share, fit_rotation, load_whitening
from visualsearch.models import EmbeddingSpace, ImageEmbedding, SpaceStatus
from visualsearch.search import filtering, sql
from visualsearch.selectors import search_vectors
from visualsearch.spaces import space_activate, space_for_encoder


def _rows(n: int = 300, d: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((n, d)) * np.linspace(0.2, 3.0, d)  # energy grows with the index
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_a_rotation_keeps_every_similarity_and_puts_the_energy_first() -> None:
    rows = _rows()
    rotation = fit_rotation(rows, source_version="v", index_dimensions=4)
    rotated = rows @ rotation.projection

    assert np.allclose(rotation.projection.T @ rotation.projection, np.eye(12), atol=1e-5)
    assert np.allclose(rotated @ rotated.T, rows @ rows.T, atol=1e-5)
    assert np.allclose(rotation.apply(rows), rotated, atol=1e-5)  # unit rows stay as they are
    per_component = (rotated**2).sum(axis=0)
    assert (np.diff(per_component) <= 1e-4).all()
    assert energy_share(rows, rotation, 4) > 4 / 12 + 0.2 and energy_share(rows, rotation, 12) == pytest.approx(1.0)


def test_a_rotation_file_keeps_how_much_the_index_covers(tmp_path: Path) -> None:
    path = tmp_path / "r.npz"
    path.write_bytes(fit_rotation(_rows(), source_version="v", index_dimensions=5).to_bytes())
    loaded, _ = load_whitening(path)
    assert loaded.index_dimensions == 5 and loaded.components == 12

    with pytest.raises(WhiteningError, match="0 to 12 components"):
        fit_rotation(_rows(), source_version="v", index_dimensions=13)
    with pytest.raises(WhiteningError, match="at least 3 photos"):
        fit_rotation(_rows()[:2], source_version="v")


@pytest.mark.django_db
def test_a_prefix_indexed_space_is_walked_by_its_leading_components_and_scored_on_the_whole_vector(settings):
    settings.SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS = 0
    settings.SHOPLENS_SEARCH_WEIGHTS = {**settings.SHOPLENS_SEARCH_WEIGHTS, "image": {"clip": 1.0}}
    fake = SimpleNamespace(name="clip", model_name="clip-test", version="v1", dimension=4, index_dimension=2)
    space = space_activate(space=space_for_encoder(encoder=cast(Encoder, fake), modality="image"))
    # Two products alike in the leading components; only the whole vector tells them apart.
    stored = {"PRE-A": [1.0, 0.0, 0.0, 1.0], "PRE-B": [1.0, 0.0, 1.0, 0.0], "PRE-C": [0.0, 1.0, 0.0, 1.0]}
    for sku, vector in stored.items():
        (image_id,) = product_with_drawn_photos(1, sku=sku)
        image = ProductImage.objects.get(pk=image_id)
        ImageEmbedding.objects.create(
            space=space, image=image, product_id=image.product_id, content_sha256=image.sha256, vector=vector
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [space.index_name])
        assert "subvector(vector, 1, 2)" in cursor.fetchone()[0]
    query = np.array([1, 0, 0, 1], dtype=np.float32) / np.sqrt(2)

    hits = search_vectors(vectors={"clip": query}, kind="image", criteria=ProductCriteria(), limit=3).hits
    assert [hit.product.sku for hit in hits][:2] == ["PRE-A", "PRE-B"]
    assert [round(hit.signals["clip"], 2) for hit in hits] == [1.0, 0.5, 0.5]  # the whole vector's cosines

    signal = sql.Signal("clip", space.pk, 4, "image", query, index_dimension=2)
    ctes, params = sql._nearest_ctes([signal], filtering.product_filter_sql(ProductCriteria()), k=3, exact=False)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN WITH " + ", ".join(ctes) + " SELECT * FROM nn0", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert space.index_name in plan and "subvector" in plan


def _visual_option(settings, **options: object) -> None:
    settings.SHOPLENS_ENCODERS = {
        **settings.SHOPLENS_ENCODERS,
        "visual": {**settings.SHOPLENS_ENCODERS["visual"], **options},
    }
    reset_encoders()


@pytest.mark.django_db
def test_the_rotation_command_opens_a_space_indexed_over_its_leading_components(settings, tmp_path: Path) -> None:
    settings.SHOPLENS_ENABLED_ENCODERS = ["visual"]
    settings.SHOPLENS_SEARCH_EXACT_MAX_PRODUCTS = 0
    _visual_option(settings, WHITENING="")
    shapes: tuple[Shape, ...] = ("circle", "square", "star")
    ids = [pk for n, shape in enumerate(shapes) for pk in product_with_drawn_photos(2, sku=f"R-{n}", shape=shape)]
    indexing.embed_images(image_ids=ids)
    query = ImageEmbedding.objects.filter(image_id=ids[0]).values_list("vector", flat=True).get()
    before = search_vectors(vectors={"visual": query}, kind="image", criteria=ProductCriteria(), limit=3).hits
    out = StringIO()

    call_command("fit_visual_whitening", str(tmp_path / "r.npz"), "--rotation", "--index-dimensions", "8", stdout=out)

    assert "Fitted on 6 photos: 1280 components, 1308-dimensional vectors" in out.getvalue()
    assert "The HNSW index covers the first 8 components" in out.getvalue()
    _visual_option(settings, WHITENING=str(tmp_path / "r.npz"))
    with connection.cursor() as cursor:  # the new space's index DDL cannot wait on deferred FK checks
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("reindex", "--no-progress", "--no-texts", "--encoder", "visual", stdout=StringIO(), stderr=StringIO())

    new = EmbeddingSpace.objects.get(encoder="visual", status=SpaceStatus.ACTIVE)
    assert (new.dimension, new.index_dimension) == (1308, 8) and get_encoder("visual").index_dimension == 8
    rotated = ImageEmbedding.objects.filter(image_id=ids[0], space=new).values_list("vector", flat=True).get()
    after = search_vectors(vectors={"visual": rotated}, kind="image", criteria=ProductCriteria(), limit=3).hits
    assert [hit.product for hit in after] == [hit.product for hit in before]  # a rotation moves no similarity
    assert [hit.signals["visual"] for hit in after] == pytest.approx(
        [hit.signals["visual"] for hit in before], abs=5e-3
    )


def test_index_dimensions_need_a_rotation(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="needs --rotation"):
        call_command("fit_visual_whitening", str(tmp_path / "w.npz"), "--index-dimensions", "8", stdout=StringIO())
