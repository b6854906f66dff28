"""Chainable reads over the catalogue (``Product.objects.active().in_category(c)``)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Prefetch

if TYPE_CHECKING:
    from catalog.models import Brand, Category


class CategoryQuerySet(models.QuerySet):
    def subtree(self, category: Category) -> CategoryQuerySet:
        """The category and all its descendants."""
        return self.filter(path__startswith=category.path)


class ProductQuerySet(models.QuerySet):
    def active(self) -> ProductQuerySet:
        return self.filter(is_active=True)

    def in_category(self, category: Category) -> ProductQuerySet:
        """Products in the category or any of its sub-categories."""
        return self.filter(category__path__startswith=category.path)

    def of_brand(self, *brands: Brand) -> ProductQuerySet:
        return self.filter(brand__in=brands)

    def priced_between(self, low: Decimal | None = None, high: Decimal | None = None) -> ProductQuerySet:
        qs = self
        if low is not None:
            qs = qs.filter(price__gte=low)
        if high is not None:
            qs = qs.filter(price__lte=high)
        return qs

    def in_stock(self) -> ProductQuerySet:
        return self.filter(stock__gt=0)

    def with_listing_data(self) -> ProductQuerySet:
        """Everything a product card shows, in a fixed number of queries."""
        from catalog.models import ProductImage

        return self.select_related("brand", "category").prefetch_related(
            Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
        )
