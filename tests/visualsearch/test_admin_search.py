"""The admin's search tools: find-similar (duplicates, inactive products included) and photo search."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests.factories import ProductFactory
from visualsearch.search.types import SearchHit, SearchQuery

pytestmark = pytest.mark.django_db


def _photo(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_admin_product_list_offers_find_similar_and_a_photo_search_box(admin_client):
    product = ProductFactory.create(name="Desk Lamp")

    html = admin_client.get(reverse("admin:catalog_product_changelist")).content.decode()

    assert reverse("admin:catalog_product_similar", args=[product.pk]) in html
    assert reverse("admin:catalog_product_photo_search") in html and 'name="images"' in html


def test_admin_find_similar_lists_look_alikes_including_inactive_ones(admin_client, selector):
    product = ProductFactory.create(name="Desk Lamp")
    twin = ProductFactory.create(name="Desk Lamp (old listing)", is_active=False)
    selector.hits = [SearchHit(product=twin, score=0.97, match_percent=97, matched_image=None)]

    html = admin_client.get(reverse("admin:catalog_product_similar", args=[product.pk])).content.decode()

    query, filters = selector.calls[0]["query"], selector.calls[0]["criteria"]
    assert query == SearchQuery(product_id=product.pk)
    assert filters.active_only is False
    assert "Desk Lamp (old listing)" in html and "97%" in html
    assert reverse("admin:catalog_product_change", args=[twin.pk]) in html


def test_admin_photo_search_finds_a_duplicate_before_it_is_added(admin_client, selector):
    existing = ProductFactory.create(name="Blue Kettle")
    selector.hits = [SearchHit(product=existing, score=0.99, match_percent=99, matched_image=None)]
    upload = SimpleUploadedFile("kettle.png", _photo((0, 0, 200)), content_type="image/png")

    html = admin_client.post(reverse("admin:catalog_product_photo_search"), {"images": [upload]}).content.decode()

    assert len(selector.calls[0]["query"].images) == 1
    assert "Blue Kettle" in html and "99%" in html


def test_admin_photo_search_explains_a_non_image(admin_client, selector):
    upload = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")

    html = admin_client.post(reverse("admin:catalog_product_photo_search"), {"images": [upload]}).content.decode()

    assert "not an image we can read" in html
    assert selector.calls == []
