"""Search API: sort and offset paging of the results, and a crop per photo."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.search_fixtures import side_by_side

pytestmark = pytest.mark.django_db

IMAGE_URL = "/api/v1/search/image"
TEXT_URL = "/api/v1/search/text"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [hit["product"]["id"] for hit in response.json()["results"]]


def test_offset_pages_continue_the_same_ranking(api_client, search_catalogue):
    whole = ids(api_client.get(TEXT_URL, {"q": "round cushion", "limit": 10}))
    first = ids(api_client.get(TEXT_URL, {"q": "round cushion", "limit": 5}))
    second = ids(api_client.get(TEXT_URL, {"q": "round cushion", "limit": 5, "offset": 5}))
    assert first + second == whole


def test_sort_by_price_orders_the_matches(api_client, search_catalogue):
    body = api_client.get(TEXT_URL, {"q": "storage box", "limit": 20, "sort": "price"}).json()
    matches = [hit for hit in body["results"] if not hit["below_floor"]]
    prices = [float(hit["product"]["price"]) for hit in matches]
    assert len(prices) >= 2 and prices == sorted(prices)


@pytest.mark.parametrize(("params", "field"), [({"offset": 90, "limit": 20}, "offset"), ({"sort": "colour"}, "sort")])
def test_bad_paging_or_sort_is_a_400_naming_the_field(api_client, search_catalogue, params, field):
    response = api_client.get(TEXT_URL, {"q": "box", **params})
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize(("crop", "expected"), [("0,0,0.5,1", ("star", "blue")), ("0.5,0,0.5,1", ("car", "red"))])
def test_a_crop_searches_only_that_region(api_client, search_catalogue, crop, expected):
    photo = side_by_side(search_catalogue.photos[("star", "blue")][0], search_catalogue.photos[("car", "red")][0])
    upload = SimpleUploadedFile("two.png", photo, content_type="image/png")
    response = api_client.post(IMAGE_URL, {"images": [upload], "crop": [crop], "limit": 3}, format="multipart")
    assert ids(response)[0] == search_catalogue.product(*expected).pk


def test_a_crop_outside_the_photo_is_a_400(api_client, search_catalogue):
    upload = SimpleUploadedFile("one.png", search_catalogue.photos[("star", "blue")][0], content_type="image/png")
    response = api_client.post(IMAGE_URL, {"images": [upload], "crop": ["5000,5000,10,10"]}, format="multipart")
    assert response.status_code == 400
    assert "crop" in response.json()["error"]["fields"]
