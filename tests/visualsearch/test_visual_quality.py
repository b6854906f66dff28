"""Visual search quality without CLIP: product framing, pooling, whitening and the multi-view measure."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import numpy as np
import pytest
import torch
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from PIL import Image

from tests.encoder_fixtures import Shape, make_product_photo
from tests.factories import product_with_drawn_photos
from visualsearch import indexing
from visualsearch.encoders import EncoderUnavailable, get_encoder, reset_encoders
from visualsearch.encoders.framing import frame_product, product_box
from visualsearch.encoders.pooling import pool_features
from visualsearch.encoders.whitening import WhiteningError, fit_whitening, load_whitening
from visualsearch.evaluation import product_split
from visualsearch.models import EmbeddingSpace, SpaceStatus
from visualsearch.multiview import MultiViewError, ViewPhoto, multi_view_report


def _product_on_white() -> Image.Image:
    photo = Image.new("RGB", (400, 300), (255, 255, 255))
    photo.paste(Image.new("RGB", (80, 100), (200, 30, 30)), (250, 40))  # the product: x 250-330, y 40-140
    return photo


def test_framing_crops_a_product_on_white_to_the_object_with_a_margin() -> None:
    left, top, right, bottom = product_box(_product_on_white()).box

    assert left < 250 and top < 40 and right > 330 and bottom > 140  # the whole product, and a margin
    assert left > 220 and top >= 0 and right < 370 and bottom < 175  # but not much more
    assert frame_product(_product_on_white()).size == (right - left, bottom - top)


def test_framing_leaves_a_busy_photo_alone() -> None:
    busy = Image.fromarray(np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8))

    framing = product_box(busy)

    assert not framing.plain_backdrop
    assert framing.box == (0, 0, 320, 240)
    assert frame_product(busy) is busy


def test_framing_never_crops_a_nearly_empty_photo_to_nothing() -> None:
    speck = Image.new("RGB", (300, 300), (250, 250, 250))
    speck.putpixel((150, 150), (0, 0, 0))

    assert frame_product(speck).size == (300, 300)


def test_framing_keeps_a_photo_the_product_already_fills() -> None:
    filled = make_product_photo("square", "blue", scale=1.4)

    assert frame_product(filled).size == filled.size


def test_gem_pooling_leans_towards_strong_locations_and_with_p_1_is_the_average() -> None:
    features = torch.zeros(1, 2, 4, 4)
    features[0, 0] = 1.0  # channel 0: weak everywhere
    features[0, 1, 0, 0] = 16.0  # channel 1: one strong spot, the same mean

    average = pool_features(features, method="avg")
    gem = pool_features(features, method="gem", p=3.0)

    assert torch.allclose(pool_features(features, method="gem", p=1.0), average, atol=1e-5)
    assert gem[0, 1] > gem[0, 0] and torch.isclose(average[0, 0], average[0, 1])
    with pytest.raises(ValueError):
        pool_features(features, method="median")


def test_whitening_decorrelates_the_rows_it_was_fitted_on_and_shortens_them() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(200, 3)) @ np.array(
        [[5.0, 1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0], [0, 0, 0.2, 0, 0]]
    )
    rows += rng.normal(scale=1e-3, size=rows.shape)

    whitening = fit_whitening(rows, components=3, shrinkage=0.0, source_version="v")
    projected = (rows - whitening.mean) @ whitening.projection

    assert whitening.components == 3
    assert np.allclose(np.cov(projected.T), np.eye(3), atol=0.05)
    assert whitening.apply(rows).shape == (200, 3)
    assert np.allclose(np.linalg.norm(whitening.apply(rows), axis=1), 1.0, atol=1e-5)


def test_whitening_keeps_no_more_components_than_the_photos_support() -> None:
    rows = np.random.default_rng(1).normal(size=(5, 40))

    assert fit_whitening(rows, components=32, shrinkage=1.0, source_version="v").components <= 4
    with pytest.raises(WhiteningError):
        fit_whitening(rows[:2], components=8, shrinkage=1.0, source_version="v")


def test_whitening_file_round_trips_and_names_its_content(tmp_path: Path) -> None:
    whitening = fit_whitening(
        np.random.default_rng(2).normal(size=(20, 6)), components=4, shrinkage=1.0, source_version="v1"
    )
    path = tmp_path / "w.npz"
    path.write_bytes(whitening.to_bytes())

    loaded, content_hash = load_whitening(path)

    assert loaded.source_version == "v1" and loaded.components == 4
    assert np.array_equal(loaded.projection, whitening.projection)
    assert len(content_hash) == 12
    (tmp_path / "bad.npz").write_bytes(b"not a whitening")
    with pytest.raises(EncoderUnavailable, match="VISUAL_WHITENING"):
        load_whitening(tmp_path / "bad.npz")


def _visual_option(settings, **options: object) -> None:
    settings.SHOPLENS_ENCODERS = {
        **settings.SHOPLENS_ENCODERS,
        "visual": {**settings.SHOPLENS_ENCODERS["visual"], **options},
    }
    reset_encoders()


def test_visual_version_names_framing_and_pooling(settings) -> None:
    _visual_option(settings, FRAMING=True, POOLING="gem", GEM_P=3)
    framed_gem = get_encoder("visual").version
    _visual_option(settings, FRAMING=False, POOLING="avg")
    plain = get_encoder("visual").version

    assert "+frame-v1" in framed_gem and "-gem3" in framed_gem
    assert "frame" not in plain and "gem" not in plain


def test_visual_encoder_refuses_a_whitening_fitted_for_another_configuration(settings, tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    path.write_bytes(fit_whitening(np.eye(1280)[:10], components=4, shrinkage=1.0, source_version="other").to_bytes())
    _visual_option(settings, WHITENING=str(path))

    with pytest.raises(EncoderUnavailable, match="fitted for other"):
        get_encoder("visual")


def _view(sku: str, vector: tuple[float, ...], key: tuple[object, ...] | None = None) -> ViewPhoto:
    return ViewPhoto(sku, np.asarray(vector, dtype=np.float32) / np.linalg.norm(vector), key)


def test_multi_view_indexes_the_first_photo_and_ranks_the_other_photos() -> None:
    photos = [
        _view("A", (1, 0, 0)),
        _view("A", (0.9, 0.1, 0)),  # finds A first
        _view("A", (0.1, 1, 0)),  # nearer B: A comes second
        _view("B", (0, 1, 0)),
        _view("B", (0, 0.2, 1)),  # nearer C (B third)... C is C's only photo
        _view("C", (0, 0, 1)),
    ]

    report = multi_view_report(photos)

    assert report.products == 3 and report.metrics.queries == 3
    assert report.metrics.recall == {1: round(1 / 3, 4), 5: 1.0, 10: 1.0}
    assert report.metrics.mrr == round((1 + 1 / 2 + 1 / 2) / 3, 4)
    assert report.variant_first is None


def test_multi_view_counts_right_colour_first_among_the_variants_only() -> None:
    tee = ("T-shirts", (("style", "crew"),))
    photos = [
        _view("TEE-RED", (1, 0, 0), tee),
        _view("TEE-RED", (0.8, 0.2, 0.5), tee),  # nearer the mug than either tee, but red beats blue
        _view("TEE-BLUE", (0, 1, 0), tee),
        _view("TEE-BLUE", (0.7, 0.6, 0), tee),  # the red tee scores higher: wrong colour first
        _view("MUG", (0.6, 0, 0.8)),
    ]

    report = multi_view_report(photos)

    assert report.metrics.recall[1] == 0.0
    assert (report.variant_first, report.variant_queries) == (0.5, 2)


def test_multi_view_split_keeps_queries_of_that_half_only() -> None:
    skus = [f"P-{n}" for n in range(12)]
    photos = [photo for n, sku in enumerate(skus) for photo in (_view(sku, (1, n, 0)), _view(sku, (1, n, 0.1)))]

    report = multi_view_report(photos, split="test")

    assert report.metrics.queries == sum(product_split(sku) == "test" for sku in skus)
    assert report.products == 12  # the catalogue side keeps every product
    with pytest.raises(MultiViewError):
        multi_view_report(photos[:1])


@pytest.mark.django_db
def test_whitening_command_opens_a_new_space_version_that_replaces_the_active_one(settings, tmp_path: Path) -> None:
    settings.SHOPLENS_ENABLED_ENCODERS = ["visual"]
    _visual_option(settings, WHITENING="")
    shapes: tuple[Shape, ...] = ("circle", "square", "star")
    ids = [pk for n, shape in enumerate(shapes) for pk in product_with_drawn_photos(2, sku=f"W-{n}", shape=shape)]
    indexing.embed_images(image_ids=ids)
    (old,) = EmbeddingSpace.objects.filter(encoder="visual")
    out = StringIO()

    call_command("fit_visual_whitening", str(tmp_path / "w.npz"), "--components", "4", stdout=out)

    assert "Fitted on 6 photos: 4 components, 32-dimensional vectors" in out.getvalue()
    _visual_option(settings, WHITENING=str(tmp_path / "w.npz"))
    with connection.cursor() as cursor:  # the new space's index DDL cannot wait on deferred FK checks
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("reindex", "--no-progress", "--no-texts", "--encoder", "visual", stdout=StringIO(), stderr=StringIO())

    old.refresh_from_db()
    new = EmbeddingSpace.objects.get(encoder="visual", status=SpaceStatus.ACTIVE)
    assert new.pk != old.pk and old.status == SpaceStatus.RETIRED
    assert new.model_version == get_encoder("visual").version and new.model_version in out.getvalue()
    assert new.model_version.startswith(old.model_version + "+white4@")
    assert new.dimension == 32


@pytest.mark.django_db
def test_whitening_command_says_why_it_cannot_fit(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No readable photo"):
        call_command("fit_visual_whitening", str(tmp_path / "w.npz"), stdout=StringIO())
