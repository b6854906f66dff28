"""Storefront forms. The filters are the API's ``ProductFilter`` with widgets for people; the
text box and the sort order are the catalogue page's own. The photo search form is
``visualsearch.forms.PhotoSearchForm`` (the admin's photo search uses it too)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.db.models import F, QuerySet

from catalog.filters import ProductFilter
from catalog.models import Category, Product, ProductQuerySet

SORT_CHOICES = [
    ("name", "Name (A–Z)"),
    ("price", "Price: low to high"),
    ("-price", "Price: high to low"),
    ("-rating", "Best rated"),
]


class StorefrontFilterForm(forms.Form):
    """The filter set's form, refusing a price range that is upside down."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and low > high:
            self.add_error("price_max", "The maximum price must not be below the minimum.")
        return data


class _SortFilter(django_filters.OrderingFilter):
    """Sorting with unrated products last and a stable tie-break, so pages never overlap."""

    def filter(self, qs: QuerySet[Product], value: Any) -> QuerySet[Product]:
        chosen = next((param for param in value or () if param), None)
        if chosen is None:
            return qs
        field = self.get_ordering_value(chosen)
        order = F(field.lstrip("-")).desc(nulls_last=True) if field.startswith("-") else F(field).asc(nulls_last=True)
        return qs.order_by(order, "name", "id")


class StorefrontFilter(ProductFilter):
    """``ProductFilter`` rendered for shoppers: indented category tree, brand checkboxes,
    an "in stock only" checkbox, and a sort menu."""

    ordering = _SortFilter(
        fields=(("name", "name"), ("price", "price"), ("rating", "rating")),
        label="Sort by",
    )

    class Meta(ProductFilter.Meta):
        form = StorefrontFilterForm

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = self.form.fields
        fields["category"].empty_label = "All categories"
        fields["category"].label_from_instance = _indented_category
        fields["brand"].widget = forms.CheckboxSelectMultiple(choices=fields["brand"].choices)
        fields["in_stock"].widget = forms.CheckboxInput()
        fields["in_stock"].label = "In stock only"
        fields["ordering"].choices = SORT_CHOICES
        fields["ordering"].empty_label = None
        for name, label in (("price_min", "From"), ("price_max", "To")):
            fields[name].label = label
            fields[name].widget.attrs.update({"inputmode": "decimal", "placeholder": "Any", "step": "0.01"})
            fields[name].min_value = Decimal("0")

    @property
    def active_filter_count(self) -> int:
        """How many filters the shopper set (shown on the folded filter panel)."""
        if not self.is_bound or not self.is_valid():
            return 0
        data = self.form.cleaned_data
        return sum(
            [bool(data.get("category")), len(data.get("brand") or ()), bool(data.get("in_stock"))]
            + [data.get(name) is not None for name in ("price_min", "price_max")]
        )


def _indented_category(category: Category) -> str:
    # A plain <select> shows the tree by indenting sub-categories.
    return "\u00a0\u00a0\u00a0" * category.depth + category.name


class TextSearchForm(forms.Form):
    q = forms.CharField(label="Search products", required=False, max_length=200, strip=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"type": "search", "placeholder": "e.g. red running shoes"})

    @property
    def text(self) -> str:
        return self.cleaned_data.get("q", "") if self.is_valid() else ""


def listing_products() -> ProductQuerySet:
    """What the catalogue lists: active products with everything a card shows."""
    return Product.objects.active().with_listing_data()
