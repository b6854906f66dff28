"""Search a shopper can trust: one number ranks and shows, a relevance floor, hybrid text search,
cached text vectors and HEIC photos (the small indexed catalogue of tests.search_fixtures)."""

from __future__ import annotations

import io
import itertools
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from catalog.criteria import ProductCriteria
from tests.search_fixtures import photo
from visualsearch.encoders import get_encoder
from visualsearch.search.types import SearchQuery
from visualsearch.selectors import search_products

pytestmark = pytest.mark.django_db


def text_search(text: str, *, limit: int = 20):
    return search_products(query=SearchQuery(text=text), criteria=ProductCriteria(), limit=limit)


def never_rise(percents: list[int]) -> bool:
    return all(a >= b for a, b in itertools.pairwise(percents))


def test_shown_percentages_never_rise_down_search_and_similar_lists(api_client, search_catalogue):
    star = search_catalogue.product("star", "blue")
    upload = SimpleUploadedFile("q.png", photo("star", "blue", seed=41, angle=20.0), content_type="image/png")
    lists = [
        api_client.post("/api/v1/search/image", {"images": [upload], "limit": 20}, format="multipart"),
        api_client.get("/api/v1/search/text", {"q": "gold star lamp", "limit": 20}),
        api_client.get("/api/v1/search/text", {"q": "red box", "limit": 20}),
        api_client.get(f"/api/v1/products/{star.pk}/similar/", {"limit": 20}),
    ]
    for response in lists:
        assert response.status_code == 200, response.json()
        percents = [hit["match_percent"] for hit in response.json()["results"]]
        assert len(percents) >= 10 and never_rise(percents), percents


def test_shown_percentages_never_rise_in_the_admin_find_similar_list(admin_client, search_catalogue):
    product = search_catalogue.product("car", "red")
    page = admin_client.get(reverse("admin:catalog_product_similar", args=[product.pk])).content.decode()
    percents = [int(p) for p in re.findall(r"<strong>(\d+)%</strong>", page)]
    assert len(percents) >= 5 and never_rise(percents), percents


def test_gibberish_text_finds_nothing_above_the_floor(search_catalogue):
    result = text_search("zzzxqy")
    assert result.relevance_floor > 0
    assert result.hits and all(hit.below_floor for hit in result.hits)
    assert result.matches == []


def test_a_photo_of_a_catalogue_product_is_a_match_above_the_floor(search_catalogue):
    result = search_products(
        query=SearchQuery(images=(search_catalogue.photos[("square", "red")][0],)), criteria=ProductCriteria(), limit=20
    )
    assert result.matches[0].product == search_catalogue.product("square", "red")
    below = [hit.below_floor for hit in result.hits]
    assert below == sorted(below)  # matches first, then what is not a match


def test_the_api_marks_hits_below_the_floor(api_client, search_catalogue):
    body = api_client.get("/api/v1/search/text", {"q": "zzzxqy"}).json()
    assert body["relevance_floor"] > 0 and body["match_count"] == 0
    assert body["results"] and all(hit["below_floor"] for hit in body["results"])


@pytest.mark.parametrize("typed", ["T-triangle-gold", "t-triangle-gold"])
def test_an_exact_sku_ranks_that_product_first(search_catalogue, typed):
    result = text_search(typed)
    assert result.hits[0].product == search_catalogue.product("triangle", "gold")
    assert result.hits[0].match_percent == 100 and not result.hits[0].below_floor


def test_a_misspelt_name_still_finds_the_product(search_catalogue):
    result = text_search("gold camping tnet")
    assert result.hits[0].product == search_catalogue.product("triangle", "gold")


def test_colour_words_count_in_text_search(search_catalogue):
    result = text_search("red star lamp")
    assert result.hits[0].product == search_catalogue.product("star", "red")
    strong_other_colours = [
        hit.product.name for hit in result.hits if hit.match_percent >= 80 and "red" not in hit.product.name.lower()
    ]
    assert strong_other_colours == []


def test_text_query_vectors_are_cached(search_catalogue, monkeypatch):
    encoder = get_encoder("text")
    calls: list[list[str]] = []
    original = encoder.encode_texts

    def counting(texts):
        calls.append(list(texts))
        return original(texts)

    monkeypatch.setattr(encoder, "encode_texts", counting)
    first = text_search("Blue  toy car")
    second = text_search("blue toy car ")
    assert calls == [["blue toy car"]]
    assert [hit.product.pk for hit in first.hits] == [hit.product.pk for hit in second.hits]


def test_a_heic_photo_finds_its_product(search_catalogue):
    png = search_catalogue.photos[("car", "green")][0]
    buffer = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(buffer, format="HEIF", quality=90)
    result = search_products(query=SearchQuery(images=(buffer.getvalue(),)), criteria=ProductCriteria(), limit=5)
    assert result.hits[0].product == search_catalogue.product("car", "green")
    assert not result.hits[0].below_floor


def test_the_catalogue_says_no_close_match_for_gibberish(client, search_catalogue):
    html = client.get(reverse("storefront:catalogue"), {"q": "zzzxqy"}).content.decode()
    assert "No close match" in html and "Other products you might like" in html
    assert "Best matches" not in html
