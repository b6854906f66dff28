"""Headless Chromium (Debian's ``chromium``) driven by Playwright against pytest-django's live
server, and a small shop whose photos are indexed with the tiny CLIP so the real selector runs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from catalog import services
from catalog.models import Product
from tests.encoder_fixtures import Shape, image_bytes, make_product_photo

CHROMIUM = Path(os.environ.get("SHOPLENS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

# Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are still
# plain synchronous code, so Django's async-safety guard does not apply to them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # CI installs Chromium (.ci/run), so there a missing browser fails the run instead of skipping.
    if CHROMIUM.exists() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where page screenshots go: ``SHOPLENS_SCREENSHOT_DIR`` or a pytest temporary folder."""
    chosen = os.environ.get("SHOPLENS_SCREENSHOT_DIR")
    path = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Shop:
    """The products of the test shop by name, and each one's catalogue photo as uploaded."""

    products: dict[str, Product] = field(default_factory=dict)
    photos: dict[str, bytes] = field(default_factory=dict)


# name, category path, brand, price, stock, (shape, colour) of its photo
CATALOGUE: list[tuple[str, tuple[str, ...], str, str, int, tuple[Shape, str]]] = [
    ("Red Runner Sneaker", ("Clothing", "Shoes"), "Acme", "59.90", 4, ("triangle", "red")),
    ("Blue Trail Boot", ("Clothing", "Shoes"), "Peak", "89.00", 0, ("square", "blue")),
    ("Green Wool Hat", ("Clothing", "Hats"), "Acme", "24.50", 9, ("circle", "green")),
    ("Yellow Toy Car", ("Toys",), "Zoom", "12.99", 12, ("car", "gold")),
    ("Purple Star Lamp", ("Home", "Lighting"), "Glow", "34.00", 3, ("star", "purple")),
    ("Orange Ceramic Bowl", ("Home", "Kitchen"), "Glow", "18.75", 6, ("circle", "orange")),
]


@pytest.fixture
def shop(transactional_db, use_tiny_clip, settings) -> Shop:
    """Six products with one photo each, embedded by the tiny CLIP into its active space."""
    from visualsearch.indexing import embed_images

    settings.ROOT_URLCONF = "tests.browser.urls"
    settings.SHOPLENS_ENABLED_ENCODERS = ["clip"]
    shop = Shop()
    for n, (name, path, brand, price, stock, (shape, colour)) in enumerate(CATALOGUE):
        photo = image_bytes(make_product_photo(shape, colour, size=(320, 320), seed=n), "JPEG", quality=90)
        product = services.product_create(
            sku=f"BR-{n:03d}",
            name=name,
            price=Decimal(price),
            stock=stock,
            rating=Decimal("4.0") + Decimal(n) / 10,
            category=services.category_ensure_path(names=list(path)),
            brand=services.brand_ensure(name=brand),
            attributes={"colour": colour},
            images=[services.ImageUpload(file=photo, name=f"{name}.jpg", alt_text=f"{name}, product photo")],
        )
        shop.products[name] = product
        shop.photos[name] = photo
    image_ids = [image.pk for product in shop.products.values() for image in product.images.all()]
    report = embed_images(image_ids=image_ids, encoder_names=["clip"])
    assert not report.failed, report
    return shop
