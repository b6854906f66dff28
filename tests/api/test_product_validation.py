"""Every writable field of the staff product API refuses null and odd values with a 400 that
names the field, as JSON and as a multipart form alike; nothing reaches the database half-valid."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from catalog.models import Product

pytestmark = pytest.mark.django_db

BAD_VALUES: list[tuple[str, Any]] = [
    ("sku", None), ("sku", ""), ("sku", "a\x00b"), ("sku", "x" * 65),
    ("name", None), ("name", ""), ("name", "x" * 256),
    ("description", None),
    ("category", "abc"), ("category", 999_999), ("category", [1]),
    ("brand", "abc"), ("brand", 999_999),
    ("price", None), ("price", "cheap"), ("price", "-1"), ("price", "NaN"), ("price", "Infinity"), ("price", "1e20"),
    ("currency", None), ("currency", ""), ("currency", "EURO"), ("currency", "1$2"),
    ("stock", None), ("stock", -1), ("stock", "many"), ("stock", 2**31), ("stock", 1.5),
    ("rating", "high"), ("rating", 6), ("rating", -1),
    ("is_active", None), ("is_active", "maybe"),
    ("attributes", None), ("attributes", [1, 2]), ("attributes", 3), ("attributes", "text"),
    ("attributes", {"colour": "re\x00d"}),
]  # fmt: skip
# A multipart form sends text: these are the texts that used to slip through.
BAD_FORM_VALUES: list[tuple[str, str]] = [
    ("attributes", "null"), ("attributes", "[1]"), ("attributes", "7"), ("attributes", "{not json"),
    ("stock", "2147483648"), ("is_active", "maybe"), ("currency", "E1"), ("price", "NaN"), ("rating", "9"),
]  # fmt: skip


@pytest.fixture
def staff_client(api_client):
    user = User.objects.create_user("staff", password="x", is_staff=True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api_client


def _assert_names_field(response, field: str) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert field in response.json()["error"]["fields"], response.json()


@pytest.mark.parametrize(("field", "value"), BAD_VALUES)
def test_json_patch_refuses_the_value_naming_the_field(staff_client, product, field, value) -> None:
    before = Product.objects.values().get(pk=product.pk)
    response = staff_client.patch(f"/api/v1/products/{product.pk}/", {field: value}, format="json")
    _assert_names_field(response, field)
    assert Product.objects.values().get(pk=product.pk) == before


@pytest.mark.parametrize(("field", "value"), BAD_FORM_VALUES)
def test_multipart_patch_refuses_the_text_naming_the_field(staff_client, product, field, value) -> None:
    response = staff_client.patch(f"/api/v1/products/{product.pk}/", {field: value}, format="multipart")
    _assert_names_field(response, field)


@pytest.mark.parametrize(("field", "value"), [*BAD_VALUES[:3], *BAD_VALUES[-6:]])
def test_json_create_refuses_the_value_and_creates_nothing(staff_client, field, value) -> None:
    body = {"sku": "NEW-1", "name": "New", "price": "1.00", field: value}
    response = staff_client.post("/api/v1/products/", body, format="json")
    _assert_names_field(response, field)
    assert not Product.objects.exists()


def test_attributes_null_as_a_form_field_is_a_400_not_a_500(staff_client, product) -> None:
    response = staff_client.patch(f"/api/v1/products/{product.pk}/", {"attributes": "null"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["attributes"] == ['Must be a JSON object, e.g. {"colour": "red"}.']


@pytest.mark.parametrize("format", ["json", "multipart"])
def test_create_without_is_active_makes_an_active_product(staff_client, format) -> None:
    response = staff_client.post("/api/v1/products/", {"sku": f"A-{format}", "name": "A", "price": "1"}, format=format)
    assert response.status_code == 201, response.json()
    assert response.json()["is_active"] is True
    assert Product.objects.get(sku=f"A-{format}").is_active is True


def test_multipart_patch_without_is_active_leaves_it_alone(staff_client, product) -> None:
    Product.objects.filter(pk=product.pk).update(is_active=False)
    response = staff_client.patch(f"/api/v1/products/{product.pk}/", {"name": "Renamed"}, format="multipart")
    assert response.status_code == 200
    assert Product.objects.get(pk=product.pk).is_active is False


def test_multipart_create_with_is_active_false_is_inactive(staff_client) -> None:
    response = staff_client.post(
        "/api/v1/products/", {"sku": "OFF", "name": "Off", "price": "1", "is_active": "false"}, format="multipart"
    )
    assert response.status_code == 201
    assert response.json()["is_active"] is False


def test_the_schema_says_brand_and_category_may_be_null_and_documents_error_bodies(api_client) -> None:
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()
    product = schema["components"]["schemas"]["Product"]["properties"]
    assert product["brand"]["nullable"] is True and product["category"]["nullable"] is True
    responses = schema["paths"]["/api/v1/products/{id}/"]["patch"]["responses"]
    assert {"400", "401", "403", "404", "429"} <= set(responses)
    assert responses["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
