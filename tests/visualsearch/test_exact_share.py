"""The exact-scan threshold grows with the catalogue: a share of its products, with a floor."""

from __future__ import annotations

import pytest
from django.db import connection

from catalog.criteria import ProductCriteria
from tests.factories import CategoryFactory, ProductFactory
from visualsearch.search import filtering

pytestmark = pytest.mark.django_db


def _fits(criteria: ProductCriteria, *, floor: int, share: float) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_product")  # the catalogue's size is the planner's estimate
        return filtering.exact_scan_fits(cursor, filtering.product_filter_sql(criteria), floor=floor, share=share)


def test_a_filter_within_the_share_of_the_catalogue_is_scanned_exactly() -> None:
    small, large = CategoryFactory.create(), CategoryFactory.create()
    ProductFactory.create_batch(4, category=small)
    ProductFactory.create_batch(16, category=large)

    assert _fits(ProductCriteria(category_id=small.pk), floor=0, share=0.25)  # 4 <= 5
    assert not _fits(ProductCriteria(category_id=large.pk), floor=0, share=0.25)  # 16 > 5
    assert _fits(ProductCriteria(category_id=large.pk), floor=16, share=0.25), "the floor wins when larger"
    assert not _fits(ProductCriteria(category_id=small.pk), floor=0, share=0.1), "2 of 20 is below 4"
