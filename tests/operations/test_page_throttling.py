"""The HTML searches share the API's search throttle: past the rate they answer a clear 429 page."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.search_fixtures import photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_searches_a_minute(settings) -> None:
    settings.SHOPLENS_SEARCH_THROTTLE_RATE = "2/min"


def test_catalogue_text_search_answers_429_past_the_rate(client, two_searches_a_minute):
    assert [client.get("/", {"q": "red lamp"}).status_code for _ in range(2)] == [200, 200]
    throttled = client.get("/", {"q": "red lamp"})
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) >= 1
    assert "Too many searches" in throttled.content.decode()
    assert client.get("/").status_code == 200  # browsing without a query is not a search


def test_photo_search_page_answers_429_past_the_rate(client, two_searches_a_minute):
    def post():
        upload = SimpleUploadedFile("q.png", photo("car", "red"), content_type="image/png")
        return client.post("/search/", {"images": [upload]}, follow=True)  # the results URL runs the search

    assert [post().status_code for _ in range(2)] == [200, 200]
    throttled = post()
    assert throttled.status_code == 429
    assert "Please wait" in throttled.content.decode()
    assert client.get("/search/").status_code == 200  # the empty page is not a search


def test_pages_and_api_share_one_search_budget(client, api_client, two_searches_a_minute):
    assert client.get("/", {"q": "lamp"}).status_code == 200
    assert api_client.get("/api/v1/search/text", {"q": ""}).status_code == 400
    assert client.get("/", {"q": "lamp"}).status_code == 429
