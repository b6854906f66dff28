"""The product admin: adding products with photos, and refusing bad photos with a clear message."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from catalog.models import IndexingStatus, Product


def _upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def _png(colour: tuple[int, int, int] = (20, 120, 220), size: tuple[int, int] = (60, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _form_data(**images: SimpleUploadedFile) -> dict[str, object]:
    data: dict[str, object] = {
        "sku": "LAMP-1",
        "name": "Desk lamp",
        "description": "A lamp.",
        "price": "24.50",
        "currency": "USD",
        "stock": "4",
        "rating": "",
        "is_active": "on",
        "attributes": "{}",
        "images-TOTAL_FORMS": str(len(images)),
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    for index, upload in enumerate(images.values()):
        data[f"images-{index}-image"] = upload
        data[f"images-{index}-alt_text"] = f"photo {index}"
        data[f"images-{index}-position"] = str(index)
    return data


@pytest.mark.django_db
def test_admin_adds_a_product_with_photos_through_the_services(admin_client) -> None:
    response = admin_client.post(
        reverse("admin:catalog_product_add"),
        _form_data(a=_upload("front.png", _png()), b=_upload("back.png", _png((200, 10, 10)))),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    product = Product.objects.get(sku="LAMP-1")
    assert product.slug == "desk-lamp"
    assert [(i.alt_text, i.width, i.height) for i in product.images.all()] == [("photo 0", 60, 40), ("photo 1", 60, 40)]
    assert {i.indexing_status for i in product.images.all()} == {IndexingStatus.PENDING}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"just some text, not a picture", "not an image"),
        (_png(size=(400, 300))[:120], "incomplete or damaged"),
    ],
)
def test_admin_rejects_bad_photos_with_a_clear_message(admin_client, content: bytes, message: str) -> None:
    response = admin_client.post(reverse("admin:catalog_product_add"), _form_data(a=_upload("bad.png", content)))
    assert response.status_code == 200
    assert message in response.content.decode().lower()
    assert not Product.objects.filter(sku="LAMP-1").exists()


@pytest.mark.django_db
def test_admin_rejects_oversized_photos(admin_client, settings) -> None:
    settings.SHOPLENS_MAX_IMAGE_PIXELS = 100 * 100
    response = admin_client.post(
        reverse("admin:catalog_product_add"), _form_data(a=_upload("huge.png", _png(size=(300, 300))))
    )
    assert response.status_code == 200
    assert "pixels" in response.content.decode().lower()
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_admin_changelist_filters_by_indexing_status_and_stock(admin_client, product) -> None:
    url = reverse("admin:catalog_product_changelist")
    assert product.name in admin_client.get(url, {"indexing": "no_photos", "in_stock": "yes"}).content.decode()
    assert product.name not in admin_client.get(url, {"indexing": "failed"}).content.decode()
    assert product.name in admin_client.get(url, {"q": product.sku}).content.decode()
