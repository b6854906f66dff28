"""Search endpoints: photo, text and similar-product searches, their errors and throttling."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.search_fixtures import photo

pytestmark = pytest.mark.django_db

IMAGE_URL = "/api/v1/search/image"
TEXT_URL = "/api/v1/search/text"


def upload(data: bytes, name: str = "query.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


def error(response) -> dict:
    return response.json()["error"]


def test_photo_search_returns_hits_with_score_match_and_matched_photo(api_client, search_catalogue):
    wanted = search_catalogue.product("star", "blue")
    response = api_client.post(
        IMAGE_URL, {"images": [upload(search_catalogue.photos[("star", "blue")][0])], "limit": 3}, format="multipart"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["query_time_ms"] > 0
    assert body["encoders"] == ["clip", "visual"]
    first = body["results"][0]
    assert first["product"]["id"] == wanted.pk
    assert 0 <= first["match_percent"] <= 100 and first["score"] > 0.9
    assert first["matched_image_url"].endswith(search_catalogue.images[("star", "blue")][0].image.url)
    assert len(body["results"]) == 3


def test_photo_search_with_several_photos_negatives_text_and_filters(api_client, search_catalogue):
    pointy = search_catalogue.categories["Shop/Angular/Pointy"]
    response = api_client.post(
        IMAGE_URL,
        {
            "images": [upload(photo("star", "red", seed=3)), upload(photo("triangle", "red", seed=4), "b.png")],
            "negative_images": [upload(photo("star", "gold", seed=5), "c.png")],
            "text": "red",
            "category": pointy.pk,
            "limit": 5,
        },
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert len(results) == 5
    assert all(row["product"]["category"]["id"] == pointy.pk for row in results)


def test_text_search(api_client, search_catalogue):
    response = api_client.get(TEXT_URL, {"q": "tent for camping", "limit": 4})
    assert response.status_code == 200
    assert {row["product"]["sku"].split("-")[1] for row in response.json()["results"]} == {"triangle"}


def test_similar_products_exclude_the_product(api_client, search_catalogue):
    product = search_catalogue.product("car", "red")
    response = api_client.get(f"/api/v1/products/{product.pk}/similar/", {"limit": 5, "in_stock": "true"})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == 5 and product.pk not in [row["product"]["id"] for row in rows]
    assert all(row["product"]["in_stock"] for row in rows)


def test_similar_products_of_an_unknown_product_is_404(api_client):
    assert api_client.get("/api/v1/products/999999/similar/").status_code == 404


def test_not_an_image_is_400(api_client):
    response = api_client.post(IMAGE_URL, {"images": [upload(b"%PDF-1.4 nope", "a.pdf")]}, format="multipart")
    assert response.status_code == 400
    assert error(response)["code"] == "not_image"
    assert "images" in error(response)["fields"]


def test_a_too_large_file_is_413(api_client, settings, png_bytes):
    settings.SHOPLENS_MAX_UPLOAD_BYTES = 100
    response = api_client.post(IMAGE_URL, {"images": [upload(png_bytes)]}, format="multipart")
    assert response.status_code == 413
    assert error(response)["code"] == "too_large"


def test_too_many_pixels_is_413(api_client, settings):
    settings.SHOPLENS_MAX_IMAGE_PIXELS = 1000
    buffer = io.BytesIO()
    Image.new("RGB", (100, 100), "red").save(buffer, format="PNG")
    response = api_client.post(IMAGE_URL, {"images": [upload(buffer.getvalue())]}, format="multipart")
    assert response.status_code == 413
    assert error(response)["code"] == "too_many_pixels"


def test_a_photo_search_without_photos_is_400(api_client):
    response = api_client.post(IMAGE_URL, {"text": "red"}, format="multipart")
    assert response.status_code == 400
    assert "images" in error(response)["fields"]


@pytest.mark.parametrize("q", ["", "   "])
def test_a_text_search_without_text_is_400(api_client, q):
    response = api_client.get(TEXT_URL, {"q": q})
    assert response.status_code == 400
    assert "q" in error(response)["fields"]


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-5"])
def test_a_bad_limit_is_400(api_client, limit):
    response = api_client.get(TEXT_URL, {"q": "red", "limit": limit})
    assert response.status_code == 400
    assert "limit" in error(response)["fields"]


@pytest.mark.parametrize(("params", "field"), [({"category": "999999"}, "category"), ({"brand": "abc"}, "brand")])
def test_an_unknown_filter_value_is_400(api_client, params, field):
    response = api_client.get(TEXT_URL, {"q": "red", **params})
    assert response.status_code == 400
    assert field in error(response)["fields"]


def test_search_without_any_working_encoder_is_503(api_client, settings):
    settings.SHOPLENS_ENABLED_ENCODERS = []
    response = api_client.get(TEXT_URL, {"q": "red"})
    assert response.status_code == 503
    assert error(response)["code"] == "unavailable"


def test_searches_are_throttled(api_client, settings):
    settings.SHOPLENS_SEARCH_THROTTLE_RATE = "2/min"
    statuses = [api_client.get(TEXT_URL, {"q": ""}).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    assert error(api_client.get(TEXT_URL, {"q": ""}))["code"] == "throttled"


def test_anonymous_clients_are_throttled_on_the_whole_api(api_client, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle

    monkeypatch.setitem(AnonRateThrottle.THROTTLE_RATES, "anon", "1/min")
    assert api_client.get("/api/v1/brands/").status_code == 200
    assert api_client.get("/api/v1/brands/").status_code == 429


def test_search_is_documented_in_the_schema(api_client):
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()
    for path in ("/api/v1/search/image", "/api/v1/search/text", "/api/v1/products/{id}/similar/", "/api/v1/products/"):
        assert path in schema["paths"]
