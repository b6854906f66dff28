"""The storefront pages: catalogue grid, filters, sorting, pagination, text search, product page."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from PIL import Image

from catalog import services
from catalog.models import Product
from tests.browser.a11y import accessibility_problems
from tests.factories import BrandFactory, CategoryFactory, ProductFactory
from visualsearch.search.types import SearchHit, SearchQuery, SearchUnavailable

pytestmark = pytest.mark.django_db


def _photo(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _with_photo(product: Product, colour: tuple[int, int, int] = (200, 30, 30)) -> Product:
    services.product_image_add(
        product=product,
        upload=services.ImageUpload(file=_photo(colour), name="p.png", alt_text=f"{product.name} photo"),
    )
    return product


def test_catalogue_shows_active_products_with_name_brand_price_and_rating(client):
    brand = BrandFactory.create(name="Acme")
    _with_photo(ProductFactory.create(name="Trail Shoe", brand=brand, price=Decimal("59.90"), rating=Decimal("4.50")))
    ProductFactory.create(name="Hidden Shoe", is_active=False)

    html = client.get(reverse("storefront:catalogue")).content.decode()

    assert "Trail Shoe" in html and "Acme" in html and "59.90" in html and "Rated 4.5 out of 5" in html
    assert "Hidden Shoe" not in html
    assert 'alt="Trail Shoe photo"' in html


def test_catalogue_category_filter_includes_sub_categories(client):
    shoes = CategoryFactory.create(name="Shoes")
    boots = CategoryFactory.create(name="Boots", parent=shoes)
    ProductFactory.create(name="Hiking Boot", category=boots)
    ProductFactory.create(name="Blue Mug", category=CategoryFactory.create(name="Kitchen"))

    html = client.get(reverse("storefront:catalogue"), {"category": shoes.pk}).content.decode()

    assert "Hiking Boot" in html
    assert "Blue Mug" not in html


def test_catalogue_filters_by_brand_price_range_and_stock(client):
    acme = BrandFactory.create(name="Acme")
    ProductFactory.create(name="Match", brand=acme, price=Decimal("20"), stock=3)
    ProductFactory.create(name="Other Brand", price=Decimal("20"), stock=3)
    ProductFactory.create(name="Too Dear", brand=acme, price=Decimal("90"), stock=3)
    ProductFactory.create(name="Sold Out", brand=acme, price=Decimal("20"), stock=0)

    html = client.get(
        reverse("storefront:catalogue"), {"brand": acme.pk, "price_min": "10", "price_max": "50", "in_stock": "on"}
    ).content.decode()

    assert "Match" in html
    assert [name for name in ("Other Brand", "Too Dear", "Sold Out") if name in html] == []


def test_catalogue_sorts_by_price_high_to_low(client):
    for name, price in [("Cheap", "5"), ("Dear", "500"), ("Middle", "50")]:
        ProductFactory.create(name=name, price=Decimal(price))

    html = client.get(reverse("storefront:catalogue"), {"ordering": "-price"}).content.decode()

    assert html.index("Dear") < html.index("Middle") < html.index("Cheap")


def test_catalogue_paginates_and_keeps_the_filters_in_page_links(client, settings):
    settings.SHOPLENS_UI_PAGE_SIZE = 2
    category = CategoryFactory.create(name="Hats")
    for n in range(5):
        ProductFactory.create(name=f"Hat {n}", category=category)

    response = client.get(reverse("storefront:catalogue"), {"category": category.pk, "page": 2})
    html = response.content.decode()

    assert response.context["page_obj"].number == 2
    assert "Page 2 of 3" in html
    assert f"category={category.pk}&amp;page=3" in html


def test_catalogue_lists_products_in_a_constant_number_of_queries(client, django_assert_num_queries):
    for n in range(6):
        _with_photo(
            ProductFactory.create(name=f"Item {n}", brand=BrandFactory.create(), category=CategoryFactory.create()),
            (n * 40, 0, 0),
        )

    # count, products (+brand, category), photos, category choices, brand choices
    with django_assert_num_queries(5):
        response = client.get(reverse("storefront:catalogue"))
    assert len(response.context["cards"]) == 6


def test_catalogue_text_search_goes_through_the_selector_with_the_filters(client, selector):
    category = CategoryFactory.create(name="Shoes")
    shoe = ProductFactory.create(name="Red Runner", category=category)
    selector.hits = [SearchHit(product=shoe, score=0.9, match_percent=91, matched_image=None)]

    html = client.get(reverse("storefront:catalogue"), {"q": "red shoes", "category": category.pk}).content.decode()

    query, filters = selector.calls[0]["query"], selector.calls[0]["criteria"]
    assert query == SearchQuery(text="red shoes")
    assert filters.category_id == category.pk
    assert "Red Runner" in html and "91%" in html
    assert "Results for “red shoes”" in html


def test_catalogue_rejects_a_price_range_upside_down_with_a_message(client):
    html = client.get(reverse("storefront:catalogue"), {"price_min": "50", "price_max": "10"}).content.decode()

    assert "The maximum price must not be below the minimum." in html


def test_product_page_shows_details_and_similar_products_without_itself(client, selector):
    brand = BrandFactory.create(name="Acme")
    product = _with_photo(
        ProductFactory.create(
            name="Red Runner", brand=brand, stock=0, attributes={"colour": "red"}, price=Decimal("42.00")
        )
    )
    twin = ProductFactory.create(name="Red Runner II")
    selector.hits = [
        SearchHit(product=product, score=1.0, match_percent=100, matched_image=None),
        SearchHit(product=twin, score=0.8, match_percent=85, matched_image=None),
    ]

    html = client.get(product.get_absolute_url()).content.decode()

    assert selector.calls[0]["query"] == SearchQuery(product_id=product.pk)
    assert "<h1>Red Runner</h1>" in html and "42.00" in html and "Out of stock" in html and "Colour" in html
    similar = html[html.index("Similar products") :]
    assert "Red Runner II" in similar and "85% match" in similar and "strong" in similar
    assert product.get_absolute_url() not in similar


def test_product_page_is_not_found_for_inactive_or_unknown_products(client):
    hidden = ProductFactory.create(is_active=False)

    assert client.get(hidden.get_absolute_url()).status_code == 404
    assert client.get(reverse("storefront:product-detail", kwargs={"slug": "no-such-thing"})).status_code == 404


def test_product_page_still_renders_when_search_is_unavailable(client, selector):
    selector.error = SearchUnavailable("model missing")
    product = ProductFactory.create(name="Lonely Lamp")

    response = client.get(product.get_absolute_url())

    assert response.status_code == 200
    assert "not available right now" in response.content.decode()


def test_storefront_pages_pass_the_basic_accessibility_check(client, selector):
    product = _with_photo(
        ProductFactory.create(name="Red Runner", brand=BrandFactory.create(), category=CategoryFactory.create())
    )
    selector.hits = [SearchHit(product=product, score=0.5, match_percent=55, matched_image=None)]

    for url in [
        reverse("storefront:catalogue"),
        reverse("storefront:catalogue") + "?q=red",
        reverse("storefront:catalogue") + "?price_min=9&price_max=1",
        product.get_absolute_url(),
    ]:
        assert accessibility_problems(client.get(url).content.decode()) == [], url


def test_catalogue_best_rated_sort_puts_unrated_products_last(client):
    ProductFactory.create(name="Unrated", rating=None)
    ProductFactory.create(name="Loved", rating=Decimal("4.9"))
    ProductFactory.create(name="Liked", rating=Decimal("3.1"))

    html = client.get(reverse("storefront:catalogue"), {"ordering": "-rating"}).content.decode()

    assert html.index("Loved") < html.index("Liked") < html.index("Unrated")


def test_storefront_links_hashed_compressed_static_files_in_production(client, settings, tmp_path):
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", "--verbosity=0", "--ignore=admin", "--ignore=rest_framework")

    html = client.get(reverse("storefront:catalogue")).content.decode()

    hashed = next(part for part in html.split('"') if part.startswith("/static/css/shop.") and part.endswith(".css"))
    assert hashed != "/static/css/shop.css"
    assert (settings.STATIC_ROOT / hashed.removeprefix("/static/")).is_file()
    assert (settings.STATIC_ROOT / (hashed.removeprefix("/static/") + ".gz")).is_file()
