"""Boolean parameters are read strictly, and a multipart product create is active like a JSON one."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

from catalog.models import Product
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/v1/products/", "/api/v1/search/text"])
@pytest.mark.parametrize("value", ["banana", "2", "on-ish"])
def test_a_boolean_parameter_that_is_not_one_is_a_400_naming_it(api_client, url, value):
    response = api_client.get(url, {"in_stock": value, "q": "shoe"})
    assert response.status_code == 400
    assert "in_stock" in response.json()["error"]["fields"]


@pytest.mark.parametrize(("value", "only_in_stock"), [("true", True), ("1", True), ("YES", True),
                                                      ("false", False), ("0", False), ("no", False)])  # fmt: skip
def test_in_stock_understands_true_false_one_zero_yes_no(api_client, value, only_in_stock):
    stocked, sold_out = ProductFactory.create(stock=3), ProductFactory.create(stock=0)
    response = api_client.get("/api/v1/products/", {"in_stock": value})
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == ({stocked.pk} if only_in_stock else {stocked.pk, sold_out.pk})


def test_a_product_created_by_multipart_without_is_active_is_active(api_client, png_bytes):
    user = User.objects.create_user("staff", password="x", is_staff=True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    photo = SimpleUploadedFile("red.png", png_bytes, content_type="image/png")
    data = {"sku": "MP-1", "name": "Form shoe", "price": "9.50", "images": [photo]}
    response = api_client.post("/api/v1/products/", data, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["is_active"] is True
    assert Product.objects.get(sku="MP-1").is_active
    response = api_client.post(
        "/api/v1/products/", {"sku": "MP-2", "name": "Hidden", "price": "1", "is_active": "false"}, format="multipart"
    )
    assert response.status_code == 201 and Product.objects.get(sku="MP-2").is_active is False
