"""Pytest plugin: a small indexed catalogue of drawn products for search tests, and a stand-in
for the search selector behind the HTML pages (``selector``).

Built once per test module (the encoders load once) inside a transaction that is rolled back
when the module ends; each test runs in a savepoint inside it, like Django's setUpTestData.
Photos are embedded by the real indexing service with the tiny random CLIP, the real visual
encoder (EfficientNet-Lite0 + colour) and the real text encoder (MiniLM).
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction
from django.test import override_settings

from catalog import services
from catalog.models import Brand, Category, Product, ProductImage
from tests.encoder_fixtures import image_bytes, make_product_photo
from visualsearch.search.types import SearchHit, SearchResult

SHAPES = {  # shape -> category path below "shop"
    "circle": ["Shop", "Round"],
    "square": ["Shop", "Angular", "Boxes"],
    "triangle": ["Shop", "Angular", "Pointy"],
    "star": ["Shop", "Angular", "Pointy"],
    "car": ["Shop", "Vehicles"],
}
COLOURS = {"red": "Acme", "blue": "Bolt", "green": "Acme", "gold": "Bolt"}
NOUNS = {
    "circle": "round cushion",
    "square": "storage box",
    "triangle": "camping tent",
    "star": "star lamp",
    "car": "toy car",
}


@dataclass
class SearchCatalogue:
    products: dict[tuple[str, str], Product] = field(default_factory=dict)  # (shape, colour) -> product
    photos: dict[tuple[str, str], list[bytes]] = field(default_factory=dict)  # the stored photos' bytes
    images: dict[tuple[str, str], list[ProductImage]] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)  # path -> category
    brands: dict[str, Brand] = field(default_factory=dict)

    def product(self, shape: str, colour: str) -> Product:
        return self.products[(shape, colour)]


def photo(shape: str, colour: str, *, seed: int = 0, angle: float = 0.0, scale: float = 0.6) -> bytes:
    return image_bytes(make_product_photo(shape, colour, seed=seed, angle=angle, scale=scale))  # type: ignore[arg-type]


def side_by_side(left: bytes, right: bytes) -> bytes:
    """One PNG photo holding two products, ``left`` and ``right`` (for crop tests)."""
    from PIL import Image

    a, b = Image.open(io.BytesIO(left)).convert("RGB"), Image.open(io.BytesIO(right)).convert("RGB")
    canvas = Image.new("RGB", (a.width + b.width, max(a.height, b.height)), (255, 255, 255))
    canvas.paste(a, (0, 0))
    canvas.paste(b, (a.width, 0))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()


def tiny_clip_encoders(settings_encoders: dict, tiny_clip_dir: Path) -> dict:
    encoders = copy.deepcopy(settings_encoders)
    encoders["clip"] = {**encoders["clip"], "MODEL": str(tiny_clip_dir)}
    return encoders


@pytest.fixture(scope="module")
def search_catalogue(
    django_db_setup, django_db_blocker, tiny_clip_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SearchCatalogue]:
    """20 products (5 shapes x 4 colours, 2 photos each), indexed; prices 10..200, every 3rd out of stock."""
    from django.conf import settings

    from visualsearch.encoders import reset_encoders
    from visualsearch.indexing import embed_images, embed_product_texts

    overrides = override_settings(
        SHOPLENS_ENCODERS=tiny_clip_encoders(settings.SHOPLENS_ENCODERS, tiny_clip_dir),
        SHOPLENS_ENABLED_ENCODERS=["clip", "visual", "text"],
        MEDIA_ROOT=str(tmp_path_factory.mktemp("search-media")),
    )
    with django_db_blocker.unblock():
        overrides.enable()
        reset_encoders()
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            catalogue = _build(SearchCatalogue())
            embed_images(image_ids=[i.pk for imgs in catalogue.images.values() for i in imgs])
            embed_product_texts(product_ids=[p.pk for p in catalogue.products.values()])
            yield catalogue
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            overrides.disable()


def _build(catalogue: SearchCatalogue) -> SearchCatalogue:
    for brand in sorted(set(COLOURS.values())):
        catalogue.brands[brand] = services.brand_ensure(name=brand)
    index = 0
    for shape, path in SHAPES.items():
        category = services.category_ensure_path(names=path)
        catalogue.categories["/".join(path)] = category
        for colour, brand in COLOURS.items():
            photos = [photo(shape, colour, seed=index * 10 + n, angle=15.0 * n) for n in range(2)]
            product = services.product_create(
                sku=f"T-{shape}-{colour}",
                name=f"{colour.title()} {shape} {NOUNS[shape]}",
                description=f"A {colour} {NOUNS[shape]} shaped like a {shape}.",
                price=Decimal(10 + 10 * index),
                category=category,
                brand=catalogue.brands[brand],
                stock=0 if index % 3 == 2 else 5,
                images=[
                    services.ImageUpload(file=data, name=f"{shape}-{colour}-{n}.png") for n, data in enumerate(photos)
                ],
            )
            catalogue.products[(shape, colour)] = product
            catalogue.photos[(shape, colour)] = photos
            catalogue.images[(shape, colour)] = list(product.images.order_by("position"))
            index += 1
    for parent in ("Shop", "Shop/Angular"):
        catalogue.categories[parent] = Category.objects.get(
            path=services.category_ensure_path(names=parent.split("/")).path
        )
    return catalogue


class SelectorStandIn:
    """Records what a page asked the search selector (keyword arguments) and answers with ``hits``."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.hits: list[SearchHit] = []
        self.error: Exception | None = None

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        if self.error:
            raise self.error
        return SearchResult(hits=self.hits, query_time_ms=12.0, encoders=("clip", "visual"))


@pytest.fixture
def selector(monkeypatch) -> SelectorStandIn:
    """The storefront's and the admin's searches answered by a stand-in (``visualsearch.cards``)."""
    stand_in = SelectorStandIn()
    monkeypatch.setattr("visualsearch.cards.search_products", stand_in)
    return stand_in
