"""Searches on the shop's pages and through the API are recorded once each, and their result clicks."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from analytics.models import ResultInteraction, SearchEvent

pytestmark = pytest.mark.django_db

LINK = re.compile(r'href="(/r/([0-9a-f-]{36})/(\d+)/(\d+)/)"')


def _upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("query.png", data, content_type="image/png")


def _assert_timings(event: SearchEvent) -> None:
    assert event.encode_ms > 0 and event.search_ms > 0 and event.load_ms > 0
    assert event.total_ms >= event.encode_ms + event.search_ms


def test_a_photo_search_on_the_page_writes_one_event_and_its_links_record_clicks(client, search_catalogue):
    photo = search_catalogue.photos[("star", "blue")][0]
    pointy = search_catalogue.categories["Shop/Angular/Pointy"]

    # The POST keeps the photo and redirects to the results' own URL, which runs the search.
    html = client.post("/search/", {"images": [_upload(photo)], "category": pointy.pk}, follow=True).content.decode()

    event = SearchEvent.objects.get()
    links = LINK.findall(html)
    assert links and {search_id for _, search_id, _, _ in links} == {str(event.pk)}
    # The page links the matches and the first few others, in the order the event recorded them.
    assert [int(product) for _, _, _, product in links] == event.product_ids[: len(links)]
    assert (event.kind, event.channel, event.text, event.limit) == ("image", "page", "", 24)
    assert event.photo_sha256s == [hashlib.sha256(photo).hexdigest()]
    assert event.criteria == {"category_id": pointy.pk} and event.category_id == pointy.pk
    assert event.results[0][0] == search_catalogue.product("star", "blue").pk and 0 <= event.results[0][2] <= 100
    assert event.result_count >= len(links) and event.top_score == event.results[0][1]
    assert event.encoders == ["clip", "visual"] and event.session_hash == ""
    _assert_timings(event)

    url, _, position, product_id = links[1]
    response = client.get(url)

    assert response.status_code == 302 and response["Location"].startswith("/products/")
    click = ResultInteraction.objects.get()
    assert (click.event_id, click.position, click.product_id, click.channel) == (
        event.pk,
        int(position),
        int(product_id),
        "page",
    )


def test_a_photo_search_on_the_api_writes_one_event_and_takes_its_clicks(api_client, search_catalogue):
    photo = search_catalogue.photos[("car", "red")][0]

    body = api_client.post(
        "/api/v1/search/image", {"images": [_upload(photo)], "text": "red", "limit": 3}, format="multipart"
    ).json()

    event = SearchEvent.objects.get()
    assert body["search_id"] == str(event.pk)
    assert (event.kind, event.channel, event.text, event.limit, event.result_count) == (
        "image_text",
        "api",
        "red",
        3,
        3,
    )
    assert event.product_ids == [row["product"]["id"] for row in body["results"]]
    assert [row[2] for row in event.results] == [row["match_percent"] for row in body["results"]]
    assert event.encoders == body["encoders"]
    _assert_timings(event)

    second = body["results"][1]["product"]["id"]
    response = api_client.post(
        f"/api/v1/search/{event.pk}/clicks", {"product_id": second, "position": 2, "type": "purchase"}, format="json"
    )

    assert response.status_code == 201
    assert ResultInteraction.objects.values_list("position", "product_id", "type", "channel").get() == (
        2,
        second,
        "purchase",
        "api",
    )


def test_text_and_similar_product_searches_are_recorded_with_their_kind(client, search_catalogue):
    product = search_catalogue.product("circle", "green")

    client.get("/", {"q": "toy car"})
    client.get(product.get_absolute_url())

    rows = dict(SearchEvent.objects.values_list("kind", "query_product_id"))
    assert rows == {"text": None, "product": product.pk}
    assert SearchEvent.objects.get(kind="text").text == "toy car"


def test_a_shoppers_session_is_stored_only_as_a_salted_hash(client, search_catalogue):
    session = client.session
    session["basket"] = [1]
    session.save()

    client.get("/", {"q": "storage box"})

    stored = SearchEvent.objects.get().session_hash
    assert len(stored) == 64 and stored != session.session_key and session.session_key not in stored


def test_staff_searches_in_the_admin_are_not_recorded(admin_client, search_catalogue):
    photo = search_catalogue.photos[("star", "blue")][0]
    product = search_catalogue.product("star", "blue")

    admin_client.post(reverse("admin:catalog_product_photo_search"), {"images": [_upload(photo)]})
    admin_client.get(reverse("admin:catalog_product_similar", args=[product.pk]))

    assert not SearchEvent.objects.exists()
