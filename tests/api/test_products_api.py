"""Catalogue endpoints: lists with filters, ordering and pagination; staff-only writes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from catalog.models import Product
from tests.factories import BrandFactory, CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(api_client):
    user = User.objects.create_user("staff", password="x", is_staff=True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api_client


@pytest.fixture
def shopper_client(api_client):
    user = User.objects.create_user("shopper", password="x")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api_client


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_product_list_filters_by_category_including_sub_categories(api_client):
    shoes = CategoryFactory.create(name="Shoes")
    boots = CategoryFactory.create(name="Boots", parent=shoes)
    inside = [ProductFactory.create(category=shoes), ProductFactory.create(category=boots)]
    ProductFactory.create(category=CategoryFactory.create(name="Hats"))
    response = api_client.get("/api/v1/products/", {"category": shoes.pk})
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {p.pk for p in inside}


def test_product_list_filters_by_brand_price_and_stock(api_client):
    brand = BrandFactory.create()
    wanted = ProductFactory.create(brand=brand, price=Decimal("20"), stock=3)
    ProductFactory.create(brand=brand, price=Decimal("20"), stock=0)
    ProductFactory.create(brand=brand, price=Decimal("90"), stock=3)
    ProductFactory.create(brand=BrandFactory.create(), price=Decimal("20"), stock=3)
    response = api_client.get(
        "/api/v1/products/", {"brand": brand.pk, "price_min": "10", "price_max": "50", "in_stock": "true"}
    )
    assert [row["id"] for row in response.json()["results"]] == [wanted.pk]


def test_product_list_sorts_by_price_and_paginates(api_client, settings):
    for price in ("30", "10", "20"):
        ProductFactory.create(price=Decimal(price))
    response = api_client.get("/api/v1/products/", {"ordering": "-price", "page": 1})
    body = response.json()
    assert [row["price"] for row in body["results"]] == ["30.00", "20.00", "10.00"]
    assert body["count"] == 3


def test_product_list_hides_inactive_products_from_shoppers(api_client):
    ProductFactory.create(is_active=False)
    assert api_client.get("/api/v1/products/").json()["count"] == 0


def test_product_list_runs_a_fixed_number_of_queries(api_client, django_assert_num_queries):
    category = CategoryFactory.create()
    for _ in range(5):
        ProductFactory.create(category=category, brand=BrandFactory.create())
    # count, page of products (with brand and category), their photos, the category filter's lookup
    with django_assert_num_queries(4):
        response = api_client.get("/api/v1/products/", {"category": category.pk})
    assert response.json()["count"] == 5


@pytest.mark.parametrize(
    ("params", "field"),
    [({"category": 999999}, "category"), ({"brand": "abc"}, "brand"), ({"price_min": "cheap"}, "price_min"),
     ({"ordering": "colour"}, "ordering")],
)  # fmt: skip
def test_product_list_rejects_unknown_filter_values(api_client, params, field):
    response = api_client.get("/api/v1/products/", params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_product_detail_and_unknown_product(api_client, product):
    assert api_client.get(f"/api/v1/products/{product.pk}/").json()["sku"] == product.sku
    response = api_client.get("/api/v1/products/999999/")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_categories_and_brands_are_listed(api_client, product):
    assert [c["id"] for c in api_client.get("/api/v1/categories/").json()] == [product.category_id]
    assert [b["id"] for b in api_client.get("/api/v1/brands/").json()] == [product.brand_id]


def test_anonymous_clients_cannot_write(api_client, product):
    assert api_client.post("/api/v1/products/", {"sku": "X", "name": "X", "price": "1"}).status_code == 401
    assert api_client.delete(f"/api/v1/products/{product.pk}/").status_code == 401


def test_shoppers_cannot_write(shopper_client, product):
    response = shopper_client.patch(f"/api/v1/products/{product.pk}/", {"name": "Mine"}, format="json")
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


def test_staff_create_a_product_with_photos(staff_client, png_bytes, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    category, brand = CategoryFactory.create(), BrandFactory.create()
    photo = SimpleUploadedFile("red.png", png_bytes, content_type="image/png")
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(
            "/api/v1/products/",
            {"sku": "NEW-1", "name": "New shoe", "price": "12.50", "category": category.pk, "brand": brand.pk,
             "images": [photo]},
            format="multipart",
        )  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sku"] == "NEW-1" and len(body["images"]) == 1
    assert body["images"][0]["indexing_status"] == "pending"
    assert callbacks  # indexing is queued once the product commits


def test_staff_cannot_upload_something_that_is_not_an_image(staff_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = staff_client.post(
        "/api/v1/products/",
        {"sku": "NEW-2", "name": "Shoe", "price": "1", "images": [SimpleUploadedFile("a.png", b"not an image")]},
        format="multipart",
    )
    assert response.status_code == 400
    assert "image" in response.json()["error"]["fields"]
    assert not Product.objects.filter(sku="NEW-2").exists()


def test_staff_update_and_delete_a_product(staff_client, product):
    response = staff_client.patch(f"/api/v1/products/{product.pk}/", {"price": "5.00", "stock": 0}, format="json")
    assert response.status_code == 200
    assert response.json()["price"] == "5.00" and response.json()["in_stock"] is False
    assert staff_client.delete(f"/api/v1/products/{product.pk}/").status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()


def test_invalid_product_data_is_a_400_with_fields(staff_client):
    response = staff_client.post("/api/v1/products/", {"sku": "X", "name": "X", "price": "-1"}, format="json")
    assert response.status_code == 400
    assert "price" in response.json()["error"]["fields"]
