"""The search-by-photo page: the form's validation, the query it sends, and what a shopper sees."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests.browser.a11y import accessibility_problems
from tests.factories import CategoryFactory, ProductFactory
from visualsearch.models import EmbeddingSpace, SpaceStatus
from visualsearch.search.types import SearchHit, SearchUnavailable

pytestmark = pytest.mark.django_db

URL = reverse("storefront:search")


def _upload(name: str = "photo.png", colour: tuple[int, int, int] = (10, 120, 200)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_search_page_offers_file_chooser_camera_and_filters(client):
    html = client.get(URL).content.decode()

    assert 'type="file" name="images"' in html and "multiple" in html
    assert 'capture="environment"' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'name="category"' in html and 'name="in_stock"' in html


def test_photos_and_filters_become_the_selector_query(client, selector):
    category = CategoryFactory.create(name="Shoes")
    first, second = _upload("a.png"), _upload("b.png", (250, 0, 0))

    client.post(
        URL, {"images": [first, second], "category": category.pk, "price_max": "80", "in_stock": "on"}, follow=True
    )

    call = selector.calls[0]
    assert len(call["query"].images) == 2
    assert call["criteria"].category_id == category.pk
    assert call["criteria"].price_max == Decimal("80")
    assert call["criteria"].in_stock is True


def test_camera_photo_is_searched_like_a_chosen_one(client, selector):
    client.post(URL, {"camera": _upload("IMG_0001.png")}, follow=True)

    assert len(selector.calls[0]["query"].images) == 1


def test_results_show_match_percentage_with_confidence_in_words(client, selector):
    strong, fair, weak = (ProductFactory.create(name=name) for name in ("Strong One", "Fair One", "Weak One"))
    selector.hits = [
        SearchHit(product=strong, score=0.9, match_percent=93, matched_image=None),
        SearchHit(product=fair, score=0.6, match_percent=61, matched_image=None),
        SearchHit(product=weak, score=0.2, match_percent=22, matched_image=None),
    ]

    html = client.post(URL, {"images": [_upload()]}, follow=True).content.decode()

    assert html.index("Strong One") < html.index("Fair One") < html.index("Weak One")
    assert '"match match-high"><strong>93% match</strong> <span class="match-label">strong</span>' in html
    assert '"match match-medium"><strong>61% match</strong> <span class="match-label">good</span>' in html
    assert '"match match-low"><strong>22% match</strong> <span class="match-label">weak</span>' in html
    assert "clip, visual" not in html and " ms" not in html  # no developer words for shoppers
    assert 'data-encoders="clip,visual"' in html and 'data-query-ms="12"' in html


def test_a_non_image_is_refused_next_to_the_form_not_with_an_error_page(client, selector):
    notes = SimpleUploadedFile("notes.txt", b"shopping list: milk, eggs", content_type="text/plain")

    response = client.post(URL, {"images": [notes]})

    assert response.status_code == 200
    html = response.content.decode()
    assert "“notes.txt”: The file is not an image we can read" in html
    assert 'role="alert"' in html
    assert selector.calls == []


def test_a_too_large_photo_is_refused_with_the_limit(client, settings, selector):
    settings.SHOPLENS_MAX_UPLOAD_BYTES = 100

    html = client.post(URL, {"images": [_upload()]}).content.decode()

    assert "The file is too large" in html and "the limit is" in html
    assert selector.calls == []


def test_submitting_without_a_photo_asks_for_one(client, selector):
    html = client.post(URL, {}).content.decode()

    assert "Choose a photo to search with" in html
    assert selector.calls == []


def test_too_many_photos_at_once_are_refused(client, settings, selector):
    settings.SHOPLENS_UI_MAX_QUERY_IMAGES = 2

    html = client.post(URL, {"images": [_upload("1.png"), _upload("2.png"), _upload("3.png")]}).content.decode()

    assert "at most 2 photos" in html
    assert selector.calls == []


def test_nothing_found_says_so_and_suggests_what_to_try(client, selector):
    html = client.post(URL, {"images": [_upload()]}, follow=True).content.decode()

    assert "No close match" in html and "a clearer photo" in html


def test_search_unavailable_is_explained_not_a_server_error(client, selector):
    selector.error = SearchUnavailable("no weights")

    response = client.post(URL, {"images": [_upload()]}, follow=True)

    assert response.status_code == 200
    assert "Search by photo is not available right now" in response.content.decode()


def test_script_requests_get_only_the_results_part(client, selector):
    selector.hits = [
        SearchHit(product=ProductFactory.create(name="Partial Hit"), score=0.9, match_percent=90, matched_image=None)
    ]

    response = client.post(URL, {"images": [_upload()]}, headers={"X-Requested-With": "fetch"}, follow=True)

    html = response.content.decode()
    assert "Partial Hit" in html
    assert "<html" not in html and 'id="photo-search"' not in html


def test_search_page_passes_the_basic_accessibility_check(client, selector):
    selector.hits = [
        SearchHit(product=ProductFactory.create(name="Hit"), score=0.9, match_percent=90, matched_image=None)
    ]

    for response in [
        client.get(URL),
        client.post(URL, {"images": [_upload()]}, follow=True),
        client.post(URL, {"images": [SimpleUploadedFile("x.txt", b"nope")]}),
    ]:
        assert accessibility_problems(response.content.decode()) == []


def test_search_page_names_no_encoders_once_photos_are_indexed(client):
    EmbeddingSpace.objects.create(
        encoder="clip", model_name="tiny", model_version="v1", dimension=512, status=SpaceStatus.ACTIVE
    )

    html = client.get(URL).content.decode()

    assert "clip" not in html and "have not been indexed yet" not in html


def test_search_page_says_when_no_photo_has_been_indexed_yet(client):
    html = client.get(URL).content.decode()

    assert "the catalogue photos have not been indexed yet" in html
