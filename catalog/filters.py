"""Product filters shared by the REST API and the HTML pages (django-filter)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms

from catalog.criteria import ProductCriteria
from catalog.models import Brand, Category, Product, ProductQuerySet

TRUE_WORDS, FALSE_WORDS = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})


class StrictBooleanField(forms.Field):
    """true/false, 1/0, yes/no (any case) or empty; anything else is an error naming the field,
    where Django's NullBooleanField would quietly read "1", "yes" or "banana" as "not given"."""

    widget = forms.TextInput
    default_error_messages = {"invalid": "Use true or false (or 1/0, yes/no)."}

    def to_python(self, value: Any) -> bool | None:
        if isinstance(value, bool):  # a checkbox widget
            return value
        if value is None or value == "":
            return None
        word = str(value).strip().lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class ProductFilter(django_filters.FilterSet):
    """``?category=<id>`` (with sub-categories), ``brand=<id>`` (repeatable), ``price_min``, ``price_max``,
    ``in_stock``, ``ordering`` (name, price, rating; ``-`` for descending). Unknown ids are errors."""

    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(), method="filter_category", help_text="Category id; includes sub-categories."
    )
    brand = django_filters.ModelMultipleChoiceFilter(queryset=Brand.objects.all(), help_text="Brand id (repeatable).")
    price_min = django_filters.NumberFilter(field_name="price", lookup_expr="gte", min_value=0)
    price_max = django_filters.NumberFilter(field_name="price", lookup_expr="lte", min_value=0)
    in_stock = StrictBooleanFilter(
        method="filter_in_stock", help_text="Only products in stock: true/false, 1/0, yes/no."
    )
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
