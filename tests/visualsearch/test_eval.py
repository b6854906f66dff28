"""Search-quality evaluation: metrics on a tiny labelled set, through the real search selector."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from catalog.services import ImageUpload, product_create
from tests.encoder_fixtures import image_bytes, make_product_photo
from visualsearch.evaluation import LabelledQuery, Metrics, QueryOutcome, read_labels

PRODUCTS = {  # sku -> (name, shape, colour)
    "MUG-RED": ("Red ceramic coffee mug", "circle", "red"),
    "BOX-BLUE": ("Blue storage box", "square", "blue"),
    "TENT-GREEN": ("Green camping tent", "triangle", "green"),
}


@pytest.fixture
def indexed_shop(db, settings, tmp_path: Path) -> Path:
    """Three products indexed with the offline encoders; each photo is also saved as a query file."""
    from visualsearch.indexing import embed_images, embed_product_texts

    settings.SHOPLENS_ENABLED_ENCODERS = ["visual", "text"]
    image_ids, product_ids = [], []
    for sku, (name, shape, colour) in PRODUCTS.items():
        photo = image_bytes(make_product_photo(shape, colour, seed=1))  # type: ignore[arg-type]
        (tmp_path / f"{sku}.png").write_bytes(photo)
        product = product_create(sku=sku, name=name, price=Decimal("10"), images=[ImageUpload(file=photo)])
        image_ids += list(product.images.values_list("pk", flat=True))
        product_ids.append(product.pk)
    embed_images(image_ids=image_ids)
    embed_product_texts(product_ids=product_ids)
    return tmp_path


def _labels(path: Path, rows: list[tuple[str, ...]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["query", "expected_sku", "kind"][: len(rows[0])])
        writer.writerows(rows)
    return path


def test_metrics_count_recall_at_each_cutoff_and_mean_reciprocal_rank():
    query = LabelledQuery("q", "SKU", "text")
    outcomes = [QueryOutcome(query, rank) for rank in (1, 2, 7, None)]

    metrics = Metrics.of(outcomes)

    assert metrics.recall == {1: 0.25, 5: 0.5, 10: 0.75}
    assert metrics.mrr == round((1 + 1 / 2 + 1 / 7) / 4, 4)


def test_labels_infer_image_queries_from_existing_files(tmp_path):
    (tmp_path / "q.png").write_bytes(b"x")
    labels = _labels(tmp_path / "labels.csv", [("q.png", "A"), ("red mug", "B")])

    queries = read_labels(labels)

    assert [(q.kind, q.expected_sku) for q in queries] == [("image", "A"), ("text", "B")]
    assert queries[0].query == str(tmp_path / "q.png")


def test_eval_search_reports_recall_and_mrr_per_kind_and_the_worst_query(indexed_shop):
    labels = _labels(
        indexed_shop / "labels.csv",
        [
            ("MUG-RED.png", "MUG-RED", "image"),
            ("BOX-BLUE.png", "BOX-BLUE", "image"),
            ("TENT-GREEN.png", "BOX-BLUE", "image"),  # a wrong label: never first
            ("blue storage box", "BOX-BLUE", "text"),
        ],
    )
    out = io.StringIO()

    call_command("eval_search", str(labels), "--json", stdout=out)

    report = json.loads(out.getvalue())
    assert report["overall"]["queries"] == 4
    assert report["overall"]["recall@1"] == 0.75
    assert report["overall"]["recall@5"] == 1.0
    assert report["by_kind"]["image"]["recall@1"] == round(2 / 3, 4)
    assert report["by_kind"]["text"]["recall@1"] == 1.0
    assert [(w["query"], w["expected_sku"]) for w in report["worst"]] == [
        (str(indexed_shop / "TENT-GREEN.png"), "BOX-BLUE")
    ]
    assert report["worst"][0]["rank"] in (2, 3)
    assert set(report["encoders"]) <= {"visual", "text"}


def test_eval_search_prints_a_table(indexed_shop):
    labels = _labels(indexed_shop / "labels.csv", [("MUG-RED.png", "MUG-RED")])
    out = io.StringIO()

    call_command("eval_search", str(labels), stdout=out)

    assert "recall@1" in out.getvalue()
    assert "overall" in out.getvalue()
    assert "image" in out.getvalue()


def test_eval_search_multi_view_queries_each_later_photo_against_the_first_ones(db, settings):
    from visualsearch.indexing import embed_images

    settings.SHOPLENS_ENABLED_ENCODERS = ["visual"]
    image_ids = []
    for sku, (name, shape, colour) in PRODUCTS.items():
        photos = [image_bytes(make_product_photo(shape, colour, seed=seed, angle=8 * seed)) for seed in (1, 2)]  # type: ignore[arg-type]
        product = product_create(sku=sku, name=name, price=Decimal("10"), images=[ImageUpload(file=p) for p in photos])
        image_ids += list(product.images.values_list("pk", flat=True))
    embed_images(image_ids=image_ids)
    out = io.StringIO()

    call_command("eval_search", "--multi-view", "--json", stdout=out)

    report = json.loads(out.getvalue())
    assert (report["products"], report["queries"]) == (3, 3)
    assert report["recall@1"] == 1.0 and report["mrr"] == 1.0
    assert report["variant_first"] is None and report["space"].startswith("efficientnet-lite0@")


def test_eval_search_multi_view_says_when_nothing_is_indexed(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no active image space"):
        call_command("eval_search", "--multi-view", stdout=io.StringIO())


def test_eval_search_split_keeps_the_queries_of_one_half(indexed_shop):
    from django.core.management.base import CommandError

    from visualsearch.evaluation import product_split

    assert {product_split(sku) for sku in PRODUCTS} == {"validation"}  # fixed by the SKU
    labels = _labels(indexed_shop / "labels.csv", [(f"{sku}.png", sku, "image") for sku in PRODUCTS])
    out = io.StringIO()

    call_command("eval_search", str(labels), "--split", "validation", "--json", stdout=out)

    assert json.loads(out.getvalue())["overall"]["queries"] == 3
    with pytest.raises(CommandError, match="holds no queries"):
        call_command("eval_search", str(labels), "--split", "test", stdout=io.StringIO())
