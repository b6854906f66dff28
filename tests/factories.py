"""factory_boy factories for catalogue rows (photos go through catalog.services)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import factory
from django.utils.text import slugify

from catalog import services
from catalog.models import Brand, Category, Product

if TYPE_CHECKING:
    from tests.encoder_fixtures import Shape


class CategoryFactory(factory.django.DjangoModelFactory[Category]):
    class Meta:
        model = Category
        django_get_or_create = ("path",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    parent = None
    path = factory.LazyAttribute(lambda o: f"{o.parent.path if o.parent else ''}{o.slug}/")


class BrandFactory(factory.django.DjangoModelFactory[Brand]):
    class Meta:
        model = Brand
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.LazyAttribute(lambda o: slugify(f"{o.name}-{o.sku}"))
    description = "A product used in tests."
    price = Decimal("10.00")
    stock = 5
    rating = Decimal("4.20")
    is_active = True


def product_with_drawn_photos(count: int, *, sku: str, shape: Shape = "star", colour: str = "blue") -> list[int]:
    """A product with ``count`` distinct small drawn photos, through the services; their ids in order."""
    # Imported here: tests.encoder_fixtures is a pytest plugin and must be imported by pytest first.
    from tests.encoder_fixtures import image_bytes, make_product_photo

    product = services.product_create(
        sku=sku,
        name=f"Product {sku}",
        price=Decimal("5"),
        images=[
            services.ImageUpload(file=image_bytes(make_product_photo(shape, colour, size=(64, 64), seed=i)))
            for i in range(count)
        ],
    )
    return list(product.images.order_by("pk").values_list("pk", flat=True))
