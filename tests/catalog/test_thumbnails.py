"""Thumbnails are written by the indexing task and used by the pages, the API and the admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from catalog import services, thumbnails
from catalog.models import IndexingStatus
from tests.encoder_fixtures import image_bytes, make_product_photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def indexed_product(settings):
    """A product with one 800 x 600 JPEG photo, indexed by the real task (run in this process)."""
    from visualsearch.tasks import embed_product_images

    settings.SHOPLENS_ENABLED_ENCODERS = ["visual"]
    picture = make_product_photo("car", "blue").resize((800, 600))
    product = services.product_create(
        sku="TH-1",
        name="Blue car",
        price=Decimal("9.50"),
        images=[services.ImageUpload(file=image_bytes(picture, "JPEG"), name="car.jpg")],
    )
    embed_product_images.apply(args=[[product.images.get().pk]])
    return product


def test_indexing_writes_every_width_in_webp_and_jpeg_never_enlarged(indexed_product):
    image = indexed_product.images.get()
    assert image.indexing_status == IndexingStatus.READY
    for kind, pillow_format in (("webp", "WEBP"), ("jpeg", "JPEG")):
        made = thumbnails.thumbnails(image, kind)
        assert [(t.width, t.height) for t in made] == [(160, 120), (320, 240), (640, 480), (800, 600)]
        for thumb in made:
            name = thumb.url.removeprefix("/media/")
            with default_storage.open(name) as handle, Image.open(handle) as opened:
                assert opened.format == pillow_format and opened.size == (thumb.width, thumb.height)


def test_a_photo_not_indexed_yet_shows_the_original(db):
    product = services.product_create(
        sku="TH-2",
        name="Pending",
        price=Decimal(1),
        images=[services.ImageUpload(file=image_bytes(make_product_photo("star", "red")), name="s.png")],
    )
    image = product.images.get()
    assert thumbnails.thumbnail_url(image) is None


def test_pages_show_thumbnails_in_srcset_with_a_webp_source(client, indexed_product):
    image = indexed_product.images.get()
    webp = thumbnails.srcset(image, "webp")
    for url in ("/", indexed_product.get_absolute_url()):
        html = client.get(url).content.decode()
        assert f'<source type="image/webp" srcset="{webp}"' in html, url
        assert thumbnails.srcset(image, "jpeg") in html
        assert 'sizes="' in html
        assert image.image.url not in html  # the original is never sent to a page


def test_the_api_gives_thumbnail_urls_for_products_and_photos(api_client, indexed_product):
    body = api_client.get(f"/api/v1/products/{indexed_product.pk}/").json()
    image = indexed_product.images.get()
    assert body["thumbnail_url"] == f"http://testserver{thumbnails.thumbnail_url(image)}"
    photo = body["images"][0]
    assert photo["thumbnail_url"] == body["thumbnail_url"]
    assert {(t["format"], t["width"]) for t in photo["thumbnails"]} == {
        (kind, width) for kind in ("webp", "jpeg") for width in (160, 320, 640, 800)
    }


def test_search_hits_name_the_matched_photos_thumbnail(api_client, indexed_product):
    from django.core.files.uploadedfile import SimpleUploadedFile

    query = image_bytes(make_product_photo("car", "blue"))
    upload = SimpleUploadedFile("q.png", query, content_type="image/png")
    body = api_client.post("/api/v1/search/image", {"images": [upload]}, format="multipart").json()
    hit = body["results"][0]
    assert hit["matched_thumbnail_url"].endswith(thumbnails.thumbnail_url(indexed_product.images.get()))


def test_the_admin_list_uses_the_small_thumbnail(admin_client, indexed_product):
    html = admin_client.get("/admin/catalog/product/").content.decode()
    assert thumbnails.thumbnail_url(indexed_product.images.get(), 160) in html
