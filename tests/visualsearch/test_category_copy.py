"""The vectors' copy of their product's category (migration 0008's triggers) and the exact scan
of a category filter that reads through it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.criteria import ProductCriteria
from catalog.models import Category, Product, ProductImage
from tests.factories import CategoryFactory, product_with_drawn_photos
from visualsearch.encoders.base import Encoder
from visualsearch.models import ImageEmbedding, ProductTextEmbedding
from visualsearch.search import filtering, sql
from visualsearch.selectors import search_vectors
from visualsearch.spaces import space_activate, space_for_encoder

pytestmark = pytest.mark.django_db


def _space(name: str, modality: str, dimension: int = 4):
    fake = SimpleNamespace(
        name=name, model_name=f"{name}-test", version="v1", dimension=dimension, index_dimension=None
    )
    space = space_for_encoder(encoder=cast(Encoder, fake), modality=modality)
    space_activate(space=space)
    return space


def _embedded_product(category: Category | None, *, sku: str, photos: int = 2) -> Product:
    image_ids = product_with_drawn_photos(photos, sku=sku)
    product = Product.objects.get(images__pk=image_ids[0])
    Product.objects.filter(pk=product.pk).update(category=category)
    space = _space("clip", "image")
    for image in ProductImage.objects.filter(pk__in=image_ids):
        ImageEmbedding.objects.create(
            space=space, image=image, product_id=product.pk, content_sha256=image.sha256, vector=[1, 0, 0, 0]
        )
    ProductTextEmbedding.objects.create(
        space=_space("text", "text"), product=product, text_sha256="0" * 64, vector=[0, 1, 0, 0]
    )
    return product


def _copies(product: Product) -> set[int | None]:
    image_rows = ImageEmbedding.objects.filter(product=product).values_list("product_category_id", flat=True)
    text_rows = ProductTextEmbedding.objects.filter(product=product).values_list("product_category_id", flat=True)
    return set(image_rows) | set(text_rows)


def test_vectors_carry_their_products_category_and_follow_it() -> None:
    shoes, bags = CategoryFactory.create(name="Shoes"), CategoryFactory.create(name="Bags")
    product = _embedded_product(shoes, sku="COPY-1")
    assert _copies(product) == {shoes.pk}

    product.category = bags
    product.save()
    assert _copies(product) == {bags.pk}

    Product.objects.filter(pk=product.pk).update(category=None)  # a queryset update bypasses signals
    assert _copies(product) == {None}


def test_deleting_a_category_clears_the_copies_with_the_products_category() -> None:
    shoes = CategoryFactory.create(name="Shoes")
    product = _embedded_product(shoes, sku="COPY-2")
    shoes.delete()
    product.refresh_from_db()
    assert product.category_id is None
    assert _copies(product) == {None}


def test_a_product_without_category_has_vectors_without_one() -> None:
    assert _copies(_embedded_product(None, sku="COPY-3")) == {None}


def test_a_category_filter_reads_the_vectors_of_its_sub_tree_by_their_category(settings) -> None:
    settings.SHOPLENS_SEARCH_WEIGHTS = {**settings.SHOPLENS_SEARCH_WEIGHTS, "image": {"clip": 1.0}}
    root = CategoryFactory.create(name="Shoes")
    leaf = CategoryFactory.create(name="Boots", parent=root)
    other = CategoryFactory.create(name="Bags")
    boots = _embedded_product(leaf, sku="COPY-4")
    _embedded_product(other, sku="COPY-5")
    query = {"clip": np.array([1, 0, 0, 0], dtype=np.float32)}

    with CaptureQueriesContext(connection) as captured:
        result = search_vectors(vectors=query, kind="image", criteria=ProductCriteria(category_id=root.pk), limit=5)
    assert [hit.product for hit in result.hits] == [boots]
    statement = next(q["sql"] for q in captured if "MATERIALIZED" in q["sql"])
    assert "e.product_category_id IN" in statement  # the exact path of a small filter
    vector_filter = filtering.product_filter_sql(ProductCriteria(category_id=root.pk))
    with connection.cursor() as cursor:  # two products: left alone, the planner would scan the table
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(
            "EXPLAIN SELECT 1 FROM visualsearch_imageembedding e "
            f"WHERE e.space_id = %s AND {vector_filter.vector_where}",
            [_space("clip", "image").pk, *vector_filter.vector_params],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "image_embedding_category_idx" in plan


def test_the_index_path_leaves_the_vectors_category_to_the_product_join() -> None:
    criteria = ProductCriteria(category_id=7)
    product_filter = filtering.product_filter_sql(criteria)
    signal = sql.Signal("clip", 1, 4, "image", np.array([1, 0, 0, 0], dtype=np.float32))
    exact_ctes, exact_params = sql._nearest_ctes([signal], product_filter, k=5, exact=True)
    index_ctes, index_params = sql._nearest_ctes([signal], product_filter, k=5, exact=False)
    assert "e.product_category_id IN" in exact_ctes[-1] and exact_params.count(7) == 2
    assert "e.product_category_id IN" not in index_ctes[-1] and index_params.count(7) == 1
