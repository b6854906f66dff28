"""Photo search results in headless Chromium: Back shows them again, sort and "More results" work
on them, removing one of two photos searches again, a crop searches one product of a two-product
photo, and a screenshot pasted on the catalogue page starts a search."""

from __future__ import annotations

import base64

import pytest

from tests.browser.test_storefront import PASTE_JS, _choose, _first_result, choose_photos
from tests.search_fixtures import side_by_side

pytestmark = pytest.mark.browser


def _titles(page) -> list[str]:
    return page.locator("#results .grid .card .card-title").all_inner_texts()


def _search(page, live_server, name: str, data: bytes) -> None:
    page.goto(f"{live_server.url}/search/")
    _choose(page, name, data)
    page.wait_for_url("**/search/?*query=*")
    page.wait_for_selector("#results .grid .card")


def test_back_from_a_result_shows_the_same_results(page, live_server, shop):
    _search(page, live_server, "snap.jpg", shop.photos["Orange Ceramic Bowl"])
    before, url = _titles(page), page.url

    page.locator("#results .grid .card a.card-link").first.click()
    page.wait_for_url("**/products/**")
    page.go_back()

    page.wait_for_selector("#results .grid .card")
    assert page.url == url and _titles(page) == before
    assert before[0] == "Orange Ceramic Bowl"
    page.reload()
    assert _titles(page) == before


def test_sort_by_price_reorders_the_results(page, live_server, shop):
    _search(page, live_server, "snap.jpg", shop.photos["Red Runner Sneaker"])
    page.select_option("#id_sort", "price")
    page.wait_for_url("**sort=price**")
    page.wait_for_function("() => document.querySelector('#id_sort').value === 'price'")

    prices = [float(text.split()[0]) for text in page.locator("#results .card-price").all_inner_texts()]
    assert len(prices) == 6 and prices == sorted(prices)


def test_more_results_appends_to_the_list(page, live_server, shop, settings):
    settings.SHOPLENS_UI_SEARCH_LIMIT = 2
    _search(page, live_server, "snap.jpg", shop.photos["Green Wool Hat"])
    first = _titles(page)
    assert len(first) == 2

    page.click("#more-results")
    page.wait_for_function("() => document.querySelectorAll('#results .grid .card').length === 4")

    assert _titles(page)[:2] == first and "shown=4" in page.url


def test_removing_one_of_two_photos_searches_again(page, live_server, shop):
    page.goto(f"{live_server.url}/search/")
    choose_photos(page, shop, "Red Runner Sneaker", "Purple Star Lamp")
    page.wait_for_selector("#results img.query-photo >> nth=1")
    url = page.url

    page.click("#results .remove-photo >> nth=0")
    page.wait_for_function("() => document.querySelectorAll('#results img.query-photo').length === 1")

    assert "For your 1 photo" in page.locator("#results").inner_text()
    assert page.url != url
    assert _first_result(page)[0] == "Purple Star Lamp"


def test_a_crop_of_a_two_product_photo_finds_the_product_in_it(page, live_server, shop, settings):
    from visualsearch.indexing import embed_images

    settings.SHOPLENS_ENABLED_ENCODERS = ["clip", "visual"]
    image_ids = [image.pk for product in shop.products.values() for image in product.images.all()]
    assert not embed_images(image_ids=image_ids, encoder_names=["visual"]).failed
    left, right = "Yellow Toy Car", "Purple Star Lamp"
    _search(page, live_server, "two.png", side_by_side(shop.photos[left], shop.photos[right]))
    wanted = right if _titles(page)[0] == left else left
    x = 320 if wanted == right else 0

    page.click("#results .crop-button")
    page.wait_for_selector("#crop-panel .cropper-container")
    page.evaluate(
        f"() => document.getElementById('crop-image').cropper.setData({{x: {x}, y: 0, width: 320, height: 320}})"
    )
    page.click("#crop-search")
    page.wait_for_url("**/search/?*query=*")
    page.wait_for_selector("#results img.query-photo[data-crop]")

    assert _first_result(page)[0] == wanted


def test_pasting_a_screenshot_on_the_catalogue_starts_a_photo_search(page, live_server, shop):
    page.goto(f"{live_server.url}/")

    page.evaluate(PASTE_JS, ["shot.png", "image/jpeg", base64.b64encode(shop.photos["Blue Trail Boot"]).decode()])

    page.wait_for_url("**/search/?*query=*")
    assert _first_result(page)[0] == "Blue Trail Boot"
