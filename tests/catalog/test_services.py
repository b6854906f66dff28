from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from catalog import services
from catalog.models import IndexingStatus, Product, ProductImage


def _photo(colour: tuple[int, int, int], size: tuple[int, int] = (80, 60), fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=fmt)
    return buffer.getvalue()


def _noisy_jpeg() -> bytes:
    import numpy as np

    pixels = np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


@pytest.mark.django_db
def test_product_with_images_round_trips_through_services() -> None:
    category = services.category_ensure_path(names=["Clothing", "Shoes"])
    brand = services.brand_ensure(name="Acme")

    product = services.product_create(
        sku="SHOE-1",
        name="Trail Runner",
        price=Decimal("89.90"),
        currency="eur",
        category=category,
        brand=brand,
        stock=3,
        attributes={"colour": "green"},
        images=[
            services.ImageUpload(file=_photo((0, 160, 0)), name="side.jpg", alt_text="Side view"),
            services.ImageUpload(file=_photo((0, 0, 160), fmt="PNG"), name="top.png"),
        ],
    )

    stored = Product.objects.with_listing_data().get(sku="SHOE-1")
    assert stored.pk == product.pk
    assert stored.slug == "trail-runner"
    assert stored.currency == "EUR"
    assert stored.category is not None and stored.category.path == "clothing/shoes/"
    assert stored.attributes == {"colour": "green"}
    images = list(stored.images.all())
    assert [i.position for i in images] == [0, 1]
    assert [(i.width, i.height) for i in images] == [(80, 60), (80, 60)]
    assert images[0].alt_text == "Side view"
    assert all(len(i.sha256) == 64 and i.indexing_status == IndexingStatus.PENDING for i in images)
    assert images[0].image.read()[:2] == b"\xff\xd8"  # the JPEG bytes were stored


@pytest.mark.django_db
def test_same_bytes_twice_on_a_product_are_stored_once(product) -> None:
    photo = _photo((10, 20, 30))
    first = services.product_image_add(product=product, upload=services.ImageUpload(file=photo))
    second = services.product_image_add(product=product, upload=services.ImageUpload(file=photo))
    assert first.pk == second.pk
    assert product.images.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "code", "words"),
    [
        (b"", "empty", "empty"),
        (b"%PDF-1.4 definitely not a picture", "not_image", "not an image"),
        (_noisy_jpeg()[:4000], "truncated", "incomplete or damaged"),
    ],
)
def test_bad_images_are_rejected_with_a_clear_reason(product, payload: bytes, code: str, words: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.product_image_add(product=product, upload=services.ImageUpload(file=payload))
    error = excinfo.value.error_dict["image"][0]
    assert error.code == code
    assert words in error.message.lower()
    assert not ProductImage.objects.exists()


@pytest.mark.django_db
def test_invalid_product_fields_are_refused_before_saving() -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.product_create(sku="NEG-1", name="Bad", price=Decimal("-1"))
    assert "price" in excinfo.value.message_dict
    assert not Product.objects.filter(sku="NEG-1").exists()


@pytest.mark.django_db
def test_category_filter_includes_sub_categories() -> None:
    shoes = services.category_ensure_path(names=["Clothing", "Shoes"])
    clothing = shoes.parent
    assert clothing is not None
    hats = services.category_ensure_path(names=["Clothing", "Hats"])
    other = services.category_ensure_path(names=["Clothing accessories"])
    for sku, category in [("A", shoes), ("B", hats), ("C", other)]:
        services.product_create(sku=sku, name=f"Item {sku}", price=Decimal("1"), category=category)

    in_clothing = Product.objects.active().in_category(clothing).values_list("sku", flat=True)
    assert sorted(in_clothing) == ["A", "B"]


@pytest.mark.django_db
def test_text_change_schedules_text_indexing_but_stock_change_does_not(
    product, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        services.product_update(product=product, stock=99)
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        services.product_update(product=product, name="Renamed")
    assert len(callbacks) == 1
