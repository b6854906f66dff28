"""The storefront in headless Chromium: search by photo (choose, drop, paste, no JavaScript),
errors, category filter, similar products, and every page at phone and desktop widths."""

from __future__ import annotations

import base64

import pytest

from tests.browser.a11y import accessibility_problems
from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

# Any element wider than the viewport, or a page that scrolls sideways, fails the layout check.
OVERFLOW_JS = """() => {
  const width = window.innerWidth;
  const wide = [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().width > width + 1 || el.getBoundingClientRect().right > width + 1)
    .filter((el) => !el.closest(".visually-hidden, .skip-link"))
    .map((el) => el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ").join(".") : ""));
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, wide: wide.slice(0, 10)};
}"""

DROP_JS = """([selector, name, type, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, {type}));
  const target = document.querySelector(selector);
  for (const kind of ["dragenter", "dragover", "drop"]) {
    target.dispatchEvent(new DragEvent(kind, {bubbles: true, cancelable: true, dataTransfer: transfer}));
  }
}"""

PASTE_JS = """([name, type, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, {type}));
  document.body.dispatchEvent(new ClipboardEvent("paste", {bubbles: true, cancelable: true, clipboardData: transfer}));
}"""


def _first_result(page) -> tuple[str, str]:
    page.wait_for_selector("#results .grid .card")
    first = page.locator("#results .grid .card").first
    return first.locator(".card-title").inner_text(), first.locator(".match").inner_text()


def choose_photos(page, shop, *names: str) -> None:
    """Several of the shop's photos chosen at once in the file chooser."""
    files = [
        {"name": f"{n}.jpg", "mimeType": "image/jpeg", "buffer": shop.photos[name]} for n, name in enumerate(names)
    ]
    page.set_input_files("#id_images", files=files)


def _choose(page, name: str, data: bytes, mime: str = "image/jpeg") -> None:
    page.set_input_files("#id_images", files=[{"name": name, "mimeType": mime, "buffer": data}])


def test_uploading_a_catalogue_photo_shows_its_product_first_with_a_match_percentage(page, live_server, shop):
    page.goto(f"{live_server.url}/search/")

    _choose(page, "snap.jpg", shop.photos["Yellow Toy Car"])

    title, match = _first_result(page)
    assert title == "Yellow Toy Car"
    assert "% match" in match
    assert page.locator("#results img.query-photo").count() == 1
    assert "clip" not in page.locator("#results").inner_text()  # the encoders stay in data- attributes


def test_without_javascript_the_form_posts_and_the_page_shows_the_results(browser, live_server, shop):
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/search/")

    _choose(page, "snap.jpg", shop.photos["Purple Star Lamp"])
    page.click("#search-button")

    title, match = _first_result(page)
    assert title == "Purple Star Lamp"
    assert "%" in match
    context.close()


def test_a_non_image_shows_an_error_next_to_the_form(page, live_server, shop):
    page.goto(f"{live_server.url}/search/")

    _choose(page, "notes.txt", b"not a picture at all", mime="text/plain")

    alert = page.wait_for_selector("#results [role=alert]")
    assert "“notes.txt”: The file is not an image we can read" in alert.inner_text()


def test_dropping_a_non_image_on_the_page_shows_the_error(page, live_server, shop):
    page.goto(f"{live_server.url}/search/")

    page.evaluate(DROP_JS, ["#dropzone", "list.pdf", "application/pdf", base64.b64encode(b"%PDF-1.4 nope").decode()])

    alert = page.wait_for_selector("#results [role=alert]")
    assert "not an image" in alert.inner_text()


def test_dropping_a_photo_searches_with_it(page, live_server, shop):
    page.goto(f"{live_server.url}/search/")

    photo = base64.b64encode(shop.photos["Green Wool Hat"]).decode()
    page.evaluate(DROP_JS, ["#dropzone", "hat.jpg", "image/jpeg", photo])

    assert _first_result(page)[0] == "Green Wool Hat"


def test_pasting_a_screenshot_searches_with_it(page, live_server, shop):
    page.goto(f"{live_server.url}/search/")

    page.evaluate(PASTE_JS, ["image.jpg", "image/jpeg", base64.b64encode(shop.photos["Blue Trail Boot"]).decode()])

    assert _first_result(page)[0] == "Blue Trail Boot"


def test_several_photos_search_for_more_like_these(page, live_server, shop):
    page.goto(f"{live_server.url}/search/")

    choose_photos(page, shop, "Red Runner Sneaker", "Blue Trail Boot")

    page.wait_for_selector("#results .grid .card")
    assert page.locator("#results img.query-photo").count() == 2
    assert "your 2 photos" in page.locator("#results").inner_text()


def test_filtering_the_catalogue_by_category_shows_only_that_category(page, live_server, shop):
    page.goto(f"{live_server.url}/")

    page.select_option("#id_category", label="Shoes")
    page.click("#filter-form button[type=submit]")

    page.wait_for_url("**/?*category=*")
    titles = page.locator(".grid .card-title").all_inner_texts()
    assert sorted(titles) == ["Blue Trail Boot", "Red Runner Sneaker"]


def test_a_product_page_shows_similar_products_but_not_itself(page, live_server, shop):
    page.goto(f"{live_server.url}/")

    page.click("text=Green Wool Hat")

    page.wait_for_selector("h1:has-text('Green Wool Hat')")
    similar = page.locator(".similar .card-title").all_inner_texts()
    assert similar
    assert "Green Wool Hat" not in similar
    assert page.locator(".similar .match").count() == len(similar)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_page_fits_the_screen_and_passes_the_basic_accessibility_check(
    browser, live_server, shop, screenshot_dir, viewport
):
    phone = viewport == PHONE
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    product = shop.products["Red Runner Sneaker"]
    pages = {
        "catalogue": f"{live_server.url}/",
        "text-search": f"{live_server.url}/?q=red+sneaker",
        "product": f"{live_server.url}{product.get_absolute_url()}",
        "search": f"{live_server.url}/search/",
        "search-results": f"{live_server.url}/search/",
        "search-error": f"{live_server.url}/search/",
    }
    for name, url in pages.items():
        page.goto(url)
        if name == "search":
            # The camera button is offered on touch screens, where it opens the camera.
            assert page.locator("label[for=id_camera]").is_visible() is phone
        elif name == "search-results":
            _choose(page, "snap.jpg", shop.photos["Orange Ceramic Bowl"])
            page.wait_for_selector("#results .grid .card")
        elif name == "search-error":
            _choose(page, "notes.txt", b"text", mime="text/plain")
            page.wait_for_selector("#results [role=alert]")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(screenshot_dir / f"{name}-{viewport['width']}.png"), full_page=True)

        layout = page.evaluate(OVERFLOW_JS)
        assert layout["scrollWidth"] <= layout["innerWidth"], (name, layout)
        assert layout["wide"] == [], (name, layout)
        assert accessibility_problems(page.content()) == [], name
        broken = page.evaluate("() => [...document.images].filter((i) => !i.complete || !i.naturalWidth).length")
        assert broken == 0, name
    context.close()


def test_admin_can_spot_a_duplicate_by_photo_and_find_similar_products(
    page, live_server, shop, admin_user, screenshot_dir
):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/catalog/product/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/catalog/product/")

    page.set_input_files(
        "#id_duplicate_photo",
        files=[{"name": "new.jpg", "mimeType": "image/jpeg", "buffer": shop.photos["Purple Star Lamp"]}],
    )
    page.click("text=Find look-alikes")
    page.wait_for_selector("table caption")
    assert page.locator("#content-main tbody tr").first.locator("td").nth(1).inner_text() == "Purple Star Lamp"
    page.screenshot(path=str(screenshot_dir / "admin-photo-search.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/catalog/product/")
    page.locator("tr", has_text="Green Wool Hat").get_by_role("link", name="Find similar").click()
    page.wait_for_selector("table caption")
    names = page.locator("#content-main tbody tr td:nth-child(2)").all_inner_texts()
    assert names and "Green Wool Hat" not in names
    page.screenshot(path=str(screenshot_dir / "admin-similar.png"), full_page=True)
