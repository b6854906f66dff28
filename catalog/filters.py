"""Product filters shared by the REST API and the HTML pages (django-filter)."""

from __future__ import annotations

import django_filters

from catalog.criteria import ProductCriteria
from catalog.models import Brand, Category, Product, ProductQuerySet


class ProductFilter(django_filters.FilterSet):
    """``?category=<id>`` (with sub-categories), ``brand=<id>`` (repeatable), ``price_min``, ``price_max``,
    ``in_stock``, ``ordering`` (name, price, rating; ``-`` for descending). Unknown ids are errors."""

    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(), method="filter_category", help_text="Category id; includes sub-categories."
    )
    brand = django_filters.ModelMultipleChoiceFilter(queryset=Brand.objects.all(), help_text="Brand id (repeatable).")
    price_min = django_filters.NumberFilter(field_name="price", lookup_expr="gte", min_value=0)
    price_max = django_filters.NumberFilter(field_name="price", lookup_expr="lte", min_value=0)
    in_stock = django_filters.BooleanFilter(method="filter_in_stock", help_text="Only products in stock.")
    ordering = django_filters.OrderingFilter(fields=(("name", "name"), ("price", "price"), ("rating", "rating")))

    class Meta:
        model = Product
        fields = ["category", "brand", "price_min", "price_max", "in_stock"]

    def filter_category(self, queryset: ProductQuerySet, name: str, value: Category | None) -> ProductQuerySet:
        return queryset.in_category(value) if value is not None else queryset

    def filter_in_stock(self, queryset: ProductQuerySet, name: str, value: bool | None) -> ProductQuerySet:
        return queryset.in_stock() if value else queryset

    def criteria(self, *, active_only: bool = True) -> ProductCriteria:
        """The same choices as a value (for the search selector); call after ``is_valid()``."""
        data = self.form.cleaned_data
        category = data.get("category")
        return ProductCriteria(
            category_id=category.pk if category is not None else None,
            brand_ids=tuple(brand.pk for brand in data.get("brand") or ()),
            price_min=data.get("price_min"),
            price_max=data.get("price_max"),
            in_stock=bool(data.get("in_stock")),
            active_only=active_only,
        )
