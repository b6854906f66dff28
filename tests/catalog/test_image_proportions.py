"""Photos of extreme proportions (a 1 x 60000 strip is 320 bytes and under the pixel limit) are
refused at the one image gate, before any encoder resizes them to gigapixels, wherever they come in."""

from __future__ import annotations

import struct
import zlib

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.authtoken.models import Token

from catalog.imaging import ImageRejected, image_info, read_image
from catalog.models import Product
from visualsearch.encoders.pixels import MAX_RESIZE_RATIO, PixelPipeline, ratio_box

STRIPS = [(1, 60_000), (2, 20_000), (20_000, 2)]


def _strip_png(width: int, height: int) -> bytes:
    """A valid 1-bit black PNG: a few hundred bytes however long it is."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = bytes(1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _upload(size: tuple[int, int]) -> SimpleUploadedFile:
    return SimpleUploadedFile("strip.png", _strip_png(*size), content_type="image/png")


def test_the_strip_is_tiny_and_under_the_pixel_limit() -> None:
    data = _strip_png(1, 60_000)
    assert len(data) < 400
    assert 1 * 60_000 < 40_000_000


@pytest.mark.parametrize("size", STRIPS)
def test_the_gate_refuses_extreme_proportions_from_the_header(size: tuple[int, int]) -> None:
    with pytest.raises(ImageRejected) as caught:
        image_info(_strip_png(*size))
    assert caught.value.code == "out_of_proportion"
    assert f"{size[0]}×{size[1]}" in caught.value.message and "20 times" in caught.value.message
    with pytest.raises(ImageRejected):
        read_image(_strip_png(*size), min_side=224)


def test_the_documented_ratio_is_allowed_and_configurable(settings) -> None:
    assert image_info(_strip_png(10, 200)).height == 200  # exactly 1:20
    settings.SHOPLENS_MAX_IMAGE_ASPECT_RATIO = 4
    with pytest.raises(ImageRejected):
        image_info(_strip_png(10, 50))


@pytest.mark.parametrize("size", [(1, 60_000), (2, 20_000), (60_000, 1), (224, 224), (300, 7000)])
def test_every_short_side_resize_is_bounded_from_both_sides(size: tuple[int, int]) -> None:
    left, top, right, bottom = ratio_box(size, MAX_RESIZE_RATIO)
    width, height = right - left, bottom - top
    assert max(width, height) <= MAX_RESIZE_RATIO * min(width, height)
    assert (width, height) == size or max(width, height) == MAX_RESIZE_RATIO * min(size)


def test_the_clip_pipeline_crops_a_strip_that_got_past_the_gate_before_resizing() -> None:
    pipeline = PixelPipeline(output_size=(224, 224), shortest_edge=224, mean=(0, 0, 0), std=(1, 1, 1))
    strip = Image.new("RGB", (3, 9000), (0, 0, 0))
    strip.paste((250, 10, 10), (0, 4400, 3, 4600))  # a red band in the middle survives the crop

    fitted = pipeline.fit_image(strip)

    assert fitted.size == (224, 224)
    assert fitted.getpixel((112, 112))[0] > 200  # type: ignore[index]


@pytest.fixture
def staff_client(api_client):
    user = User.objects.create_user("staff", password="x", is_staff=True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api_client


@pytest.mark.django_db
@pytest.mark.parametrize("size", STRIPS[:2])
def test_api_photo_search_answers_400_naming_the_field(api_client, size) -> None:
    response = api_client.post("/api/v1/search/image", {"images": [_upload(size)]}, format="multipart")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "out_of_proportion"
    assert "images" in body["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize("size", STRIPS[:2])
def test_search_page_refuses_it_next_to_the_form(client, size) -> None:
    response = client.post("/search/", {"images": [_upload(size)]})
    assert response.status_code == 200  # the page shows the form again, with the reason
    assert "“strip.png”: The image is too narrow" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("size", STRIPS[:2])
def test_admin_refuses_it_as_a_product_photo(admin_client, size) -> None:
    data = {
        "sku": "STRIP-1", "name": "Strip", "description": "", "price": "1.00", "currency": "USD",
        "stock": "0", "rating": "", "is_active": "on", "attributes": "{}",
        "images-TOTAL_FORMS": "1", "images-INITIAL_FORMS": "0", "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000", "images-0-image": _upload(size), "images-0-alt_text": "",
        "images-0-position": "0",
    }  # fmt: skip
    response = admin_client.post("/admin/catalog/product/add/", data)
    assert response.status_code == 200
    assert "The image is too narrow" in response.content.decode()
    assert not Product.objects.filter(sku="STRIP-1").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("size", STRIPS[:2])
def test_staff_api_refuses_it_and_creates_nothing(staff_client, size) -> None:
    response = staff_client.post(
        "/api/v1/products/", {"sku": "STRIP-2", "name": "Strip", "price": "1", "images": [_upload(size)]},
        format="multipart",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"]["fields"].keys() & {"image", "images"}
    assert not Product.objects.filter(sku="STRIP-2").exists()
