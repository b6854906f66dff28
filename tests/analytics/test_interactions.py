"""Clicks on results: through the page's redirect links and through the API."""

from __future__ import annotations

import uuid

import pytest

from analytics.models import ResultInteraction
from tests.analytics.conftest import hits, record
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shown():
    products = [ProductFactory.create() for _ in range(3)]
    event = record(results=hits(*(p.pk for p in products)))
    return event, products


def test_a_result_link_records_the_click_with_its_position_and_opens_the_product(client, shown):
    event, products = shown

    response = client.get(f"/r/{event.pk}/2/{products[1].pk}/")

    assert response.status_code == 302 and response["Location"] == products[1].get_absolute_url()
    click = ResultInteraction.objects.get()
    assert (click.event_id, click.position, click.product_id, click.type, click.channel) == (
        event.pk,
        2,
        products[1].pk,
        "click",
        "page",
    )


def test_a_link_that_does_not_match_the_search_still_opens_the_product_unrecorded(client, shown):
    event, products = shown

    wrong_position = client.get(f"/r/{event.pk}/1/{products[1].pk}/")
    unknown_search = client.get(f"/r/{uuid.uuid4()}/1/{products[0].pk}/")

    assert wrong_position.status_code == unknown_search.status_code == 302
    assert not ResultInteraction.objects.exists()
    assert client.get(f"/r/{event.pk}/1/999999/").status_code == 404


def test_the_api_records_a_click_and_a_conversion_with_their_positions(api_client, shown):
    event, products = shown
    url = f"/api/v1/search/{event.pk}/clicks"

    click = api_client.post(url, {"product_id": products[2].pk, "position": 3}, format="json")
    basket = api_client.post(url, {"product_id": products[0].pk, "position": 1, "type": "add_to_basket"}, format="json")

    assert click.status_code == basket.status_code == 201, click.json()
    assert click.json() | {"id": 0} == {
        "id": 0,
        "search_id": str(event.pk),
        "product_id": products[2].pk,
        "position": 3,
        "type": "click",
    }
    assert sorted(ResultInteraction.objects.values_list("position", "type", "channel")) == [
        (1, "add_to_basket", "api"),
        (3, "click", "api"),
    ]


def test_the_api_refuses_clicks_that_do_not_match_a_search(api_client, shown):
    event, products = shown

    wrong = api_client.post(f"/api/v1/search/{event.pk}/clicks", {"product_id": products[0].pk, "position": 2})
    unknown = api_client.post(f"/api/v1/search/{uuid.uuid4()}/clicks", {"product_id": products[0].pk, "position": 1})
    bad_type = api_client.post(
        f"/api/v1/search/{event.pk}/clicks", {"product_id": products[0].pk, "position": 1, "type": "like"}
    )

    assert wrong.status_code == 400 and wrong.json()["error"]["fields"]["position"]
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert bad_type.status_code == 400 and "type" in bad_type.json()["error"]["fields"]
    assert not ResultInteraction.objects.exists()
