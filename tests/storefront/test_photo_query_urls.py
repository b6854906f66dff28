"""Photo searches come back: POST redirects to ?query=<id>, which shows the same search again
(reload, Back, a shared link), with filters, sort, more results, removing a photo and a crop."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.cache import cache
from django.urls import reverse
from PIL import Image

from tests.factories import ProductFactory
from tests.storefront.test_photo_search import _upload
from visualsearch.search.types import SearchHit

pytestmark = pytest.mark.django_db

URL = reverse("storefront:search")


def _query_of(response) -> dict[str, list[str]]:
    assert response.status_code == 303
    return parse_qs(urlparse(response["Location"]).query)


def test_a_photo_search_redirects_to_a_url_that_shows_it_again(client, selector):
    selector.hits = [SearchHit(product=ProductFactory.create(name="Kept Hit"), score=0.9, match_percent=90,
                               matched_image=None)]  # fmt: skip
    response = client.post(URL, {"images": [_upload()], "in_stock": "on"})
    params = _query_of(response)
    assert params["in_stock"] == ["on"] and len(params["query"][0]) == 20

    for _ in range(2):  # reload, Back, a shared link: the same results from the stored photo
        html = client.get(response["Location"]).content.decode()
        assert "Kept Hit" in html and "Your photo" in html
    first, second = selector.calls[0]["query"].images, selector.calls[1]["query"].images
    assert first == second and selector.calls[1]["criteria"].in_stock is True
    photo_url = reverse("storefront:query-photo", args=[_stored_sha(client, params["query"][0])])
    thumbnail = client.get(photo_url)
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/png"


def _stored_sha(client, query_id: str) -> str:
    from storefront.photo_queries import load_photo_query

    query = load_photo_query(query_id)
    assert query is not None
    return query.photos[0].sha256


def test_removing_one_of_two_photos_searches_again_with_the_other(client, selector):
    params = _query_of(client.post(URL, {"images": [_upload("a.png"), _upload("b.png", (250, 0, 0))]}))
    response = client.get(URL, {"query": params["query"][0], "remove": "0", "sort": "price"})
    after = _query_of(response)
    assert after["query"] != params["query"] and after["sort"] == ["price"]
    html = client.get(response["Location"]).content.decode()
    assert "For your 1 photo" in html
    assert len(selector.calls[-1]["query"].images) == 1


def test_a_crop_searches_only_that_region_of_the_photo(client, selector):
    params = _query_of(client.post(URL, {"images": [_upload()]}))
    response = client.get(URL, {"query": params["query"][0], "crop_photo": "0", "crop": "0.5,0,0.5,1"})
    client.get(response["Location"])
    cropped = Image.open(io.BytesIO(selector.calls[-1]["query"].images[0]))
    assert cropped.size == (16, 32)


def test_an_expired_search_asks_for_the_photo_again(client, selector):
    params = _query_of(client.post(URL, {"images": [_upload()]}))
    cache.clear()
    html = client.get(URL, {"query": params["query"][0]}).content.decode()
    assert "no longer kept" in html and selector.calls == []


def test_sort_and_more_results_work_on_the_results_url(client, selector, settings):
    settings.SHOPLENS_UI_SEARCH_LIMIT = 2
    cheap, dear = ProductFactory.create(name="Cheap", price=5), ProductFactory.create(name="Dear", price=50)
    selector.hits = [SearchHit(product=dear, score=0.9, match_percent=90, matched_image=None),
                     SearchHit(product=cheap, score=0.8, match_percent=80, matched_image=None)]  # fmt: skip
    location = client.post(URL, {"images": [_upload()]})["Location"]
    html = client.get(location + "&sort=price").content.decode()
    assert html.index("Cheap") < html.index("Dear")
    assert 'id="more-results"' in html and "shown=4" in html
    client.get(location + "&shown=4")
    assert selector.calls[-1]["limit"] == 4
