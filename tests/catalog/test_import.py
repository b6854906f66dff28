"""Catalogue import: both formats, idempotency, per-row failures and safe image fetching."""

from __future__ import annotations

import csv
import http.server
import io
import ipaddress
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image

from catalog.importers import import_catalog
from catalog.importers.fetch import ImageFetchError, SafeFetcher, UnsafeURL
from catalog.importers.photos import ImageLoader
from catalog.importers.sources import parse_attributes
from catalog.models import Product, ProductImage


def _photo(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, format="JPEG")
    return path


def _png_bytes(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = ["sku", "name", "description", "price", "currency", "brand", "category", "stock", "attributes", "images"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in columns})
    return path


@pytest.fixture
def csv_catalogue(tmp_path: Path) -> Path:
    _photo(tmp_path / "img" / "boot-1.jpg", (120, 60, 20))
    _photo(tmp_path / "img" / "boot-2.jpg", (90, 40, 10))
    _photo(tmp_path / "img" / "mug.jpg", (240, 240, 250))
    return _write_csv(
        tmp_path / "catalogue.csv",
        [
            {
                "sku": "BOOT-1",
                "name": "Trail boot",
                "description": "Leather hiking boot",
                "price": "129.90",
                "currency": "eur",
                "brand": "Northpeak",
                "category": "Clothing > Shoes",
                "stock": "4",
                "attributes": "colour=brown;material=leather",
                "images": "img/boot-1.jpg|img/boot-2.jpg",
            },
            {
                "sku": "MUG-1",
                "name": "White mug",
                "price": "9.5",
                "category": "Kitchen",
                "attributes": '{"volume_ml": 350}',
                "images": "img/mug.jpg",
            },
        ],
    )


@pytest.fixture
def dummyjson_catalogue(tmp_path: Path) -> Path:
    root = tmp_path / "product-images"
    _photo(root / "1" / "1.jpg", (200, 10, 10))
    _photo(root / "1" / "2.jpg", (10, 200, 10))
    _photo(root / "1" / "thumbnail.jpg", (200, 10, 10), size=(20, 15))
    _photo(root / "2" / "1.jpg", (10, 10, 200))
    products = [
        {
            "id": 1,
            "title": "Red phone",
            "description": "A phone",
            "price": 549,
            "discountPercentage": 12.96,
            "rating": 4.69,
            "stock": 94,
            "brand": "Apple",
            "category": "smartphones",
            "thumbnail": "https://cdn.dummyjson.com/product-images/1/thumbnail.jpg",
            "images": [
                "https://cdn.dummyjson.com/product-images/1/1.jpg",
                "https://cdn.dummyjson.com/product-images/1/2.jpg",
            ],
        },
        {
            "id": 2,
            "title": "Blue scarf",
            "price": 20,
            "rating": 3,
            "stock": 0,
            "brand": "Knitly",
            "category": "womens-accessories",
            "thumbnail": "https://cdn.dummyjson.com/product-images/2/1.jpg",
            "images": ["https://cdn.dummyjson.com/product-images/2/1.jpg"],
        },
    ]
    path = tmp_path / "products.json"
    path.write_text(json.dumps({"products": products, "total": 2}))
    return path


def test_csv_import_creates_products_with_category_path_brand_attributes_and_photos(db, csv_catalogue):
    summary = import_catalog(source=csv_catalogue)

    assert (summary.created, summary.failed) == (2, 0)
    boot = Product.objects.get(sku="BOOT-1")
    assert boot.price == Decimal("129.90")
    assert boot.currency == "EUR"
    assert boot.category is not None and boot.category.path == "clothing/shoes/"
    assert boot.brand is not None and boot.brand.name == "Northpeak"
    assert boot.attributes == {"colour": "brown", "material": "leather"}
    assert boot.images.count() == 2
    assert Product.objects.get(sku="MUG-1").attributes == {"volume_ml": 350}


def test_dummyjson_import_maps_urls_under_images_root_and_uses_id_as_sku(db, dummyjson_catalogue):
    summary = import_catalog(source=dummyjson_catalogue, images_root=dummyjson_catalogue.parent / "product-images")

    assert (summary.created, summary.failed) == (2, 0)
    phone = Product.objects.get(sku="dummyjson-1")
    assert (phone.name, phone.rating, phone.stock) == ("Red phone", Decimal("4.69"), 94)
    assert phone.images.count() == 3  # 1.jpg, 2.jpg and the thumbnail
    assert Product.objects.get(sku="dummyjson-2").images.count() == 1  # thumbnail equals its only photo


def test_second_run_creates_nothing_and_duplicates_no_photo(db, csv_catalogue):
    import_catalog(source=csv_catalogue)
    photos = ProductImage.objects.count()

    summary = import_catalog(source=csv_catalogue)

    assert (summary.created, summary.updated, summary.unchanged, summary.failed) == (0, 0, 2, 0)
    assert ProductImage.objects.count() == photos
    assert Product.objects.count() == 2


def test_rerun_updates_changed_fields_and_adds_only_new_photos(db, csv_catalogue, tmp_path):
    import_catalog(source=csv_catalogue)
    _photo(tmp_path / "img" / "boot-3.jpg", (10, 10, 10))
    _write_csv(
        csv_catalogue,
        [{"sku": "BOOT-1", "name": "Trail boot", "price": "99.00", "images": "img/boot-1.jpg|img/boot-3.jpg"}],
    )

    summary = import_catalog(source=csv_catalogue)

    assert (summary.updated, summary.images_added) == (1, 1)
    boot = Product.objects.get(sku="BOOT-1")
    assert boot.price == Decimal("99.00")
    assert boot.images.count() == 3


def test_bad_rows_are_reported_with_reasons_while_the_others_import(db, tmp_path):
    _photo(tmp_path / "ok.jpg", (1, 2, 3))
    (tmp_path / "notes.jpg").write_text("not an image at all")
    source = _write_csv(
        tmp_path / "catalogue.csv",
        [
            {"sku": "BAD-PRICE", "name": "A", "price": "twelve"},
            {"sku": "OK-1", "name": "Fine", "price": "5", "images": "ok.jpg"},
            {"sku": "NO-FILE", "name": "B", "price": "5", "images": "missing.jpg"},
            {"sku": "NOT-IMAGE", "name": "C", "price": "5", "images": "notes.jpg"},
            {"sku": "OK-2", "name": "Also fine", "price": "6"},
        ],
    )

    summary = import_catalog(source=source)

    assert summary.created == 2
    reasons = {failure.sku: failure.reason for failure in summary.failures}
    assert set(reasons) == {"BAD-PRICE", "NO-FILE", "NOT-IMAGE"}
    assert "price" in reasons["BAD-PRICE"]
    assert "no such file" in reasons["NO-FILE"]
    assert "not an image" in reasons["NOT-IMAGE"]
    assert set(Product.objects.values_list("sku", flat=True)) == {"OK-1", "OK-2"}


def test_command_prints_summary_and_writes_held_out_labels(db, dummyjson_catalogue, tmp_path):
    out = io.StringIO()
    labels = tmp_path / "labels.csv"

    call_command(
        "import_catalog",
        str(dummyjson_catalogue),
        "--images-root",
        str(dummyjson_catalogue.parent / "product-images"),
        "--hold-out-last-image",
        str(labels),
        "--no-progress",
        stdout=out,
    )

    assert "2 created, 0 updated, 0 unchanged, 0 failed" in out.getvalue()
    rows = list(csv.DictReader(labels.open()))
    assert [(Path(r["query"]).name, r["expected_sku"]) for r in rows] == [("2.jpg", "dummyjson-1")]
    assert Product.objects.get(sku="dummyjson-1").images.count() == 2


def test_attributes_accept_json_or_key_value_pairs():
    assert parse_attributes('{"size": 42}') == {"size": 42}
    assert parse_attributes("size=42; colour = red") == {"size": "42", "colour": "red"}


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x.jpg", "http://10.0.0.8/x.jpg", "http://[::1]/x.jpg"])
def test_fetcher_refuses_non_public_addresses_without_connecting(url, monkeypatch):
    def no_connection(*args, **kwargs):
        raise AssertionError("the fetcher opened a connection")

    monkeypatch.setattr("urllib3.HTTPConnectionPool.urlopen", no_connection)

    with pytest.raises(UnsafeURL, match="non-public"):
        SafeFetcher(retries=0).fetch(url)


def test_fetcher_refuses_a_host_name_that_resolves_to_a_private_address(monkeypatch):
    monkeypatch.setattr("urllib3.HTTPConnectionPool.urlopen", lambda *a, **k: pytest.fail("connected"))
    fetcher = SafeFetcher(retries=0, resolver=lambda host, port: ["93.184.215.14", "192.168.1.5"])

    with pytest.raises(UnsafeURL, match=r"192\.168\.1\.5"):
        fetcher.fetch("https://images.example.com/x.jpg")


def test_fetcher_refuses_other_schemes():
    with pytest.raises(UnsafeURL, match="only http and https"):
        ImageLoader(base_dir=Path("/")).load("file:///etc/passwd")


class _ImageServer(http.server.BaseHTTPRequestHandler):
    image = _png_bytes((5, 100, 200))
    flaky_calls = 0

    def do_GET(self) -> None:
        if self.path == "/flaky.png" and _ImageServer.flaky_calls == 0:
            _ImageServer.flaky_calls += 1
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/photos/b.png")
            self.end_headers()
            return
        if self.path == "/redirect-to-loopback":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.2:9/secret.jpg")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.image)))
        self.end_headers()
        self.wfile.write(self.image)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def image_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ImageServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"images.test:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _fetcher_allowing_only_the_test_server() -> SafeFetcher:
    # The test server is on loopback; allow exactly that address, as a public one would be.
    return SafeFetcher(
        retries=0,
        timeout=2,
        resolver=lambda host, port: ["127.0.0.1"] if host == "images.test" else [host],
        is_allowed=lambda address: address == ipaddress.ip_address("127.0.0.1"),
    )


def test_fetcher_downloads_an_image_from_an_allowed_address(image_server, settings):
    fetched = _fetcher_allowing_only_the_test_server().fetch(f"http://{image_server}/photos/a.png")

    assert fetched.content == _ImageServer.image
    assert fetched.name == "a.png"


def test_fetcher_follows_a_redirect_to_an_allowed_address(image_server):
    fetched = _fetcher_allowing_only_the_test_server().fetch(f"http://{image_server}/moved")

    assert (fetched.content, fetched.name) == (_ImageServer.image, "moved")


def test_fetcher_retries_a_server_error_with_backoff(image_server):
    fetcher = _fetcher_allowing_only_the_test_server()
    fetcher.retries, fetcher.backoff = 1, 0.01

    assert fetcher.fetch(f"http://{image_server}/flaky.png").content == _ImageServer.image
    assert _ImageServer.flaky_calls == 1


def test_fetcher_refuses_a_redirect_to_loopback(image_server):
    with pytest.raises(UnsafeURL, match=r"127\.0\.0\.2"):
        _fetcher_allowing_only_the_test_server().fetch(f"http://{image_server}/redirect-to-loopback")


def test_fetcher_enforces_the_size_limit(image_server):
    fetcher = _fetcher_allowing_only_the_test_server()
    fetcher.max_bytes = 10

    with pytest.raises(ImageFetchError, match="limit"):
        fetcher.fetch(f"http://{image_server}/photos/a.png")


def test_a_refused_url_fails_only_its_row(db, tmp_path):
    source = _write_csv(
        tmp_path / "c.csv",
        [
            {"sku": "LOOP", "name": "Loop", "price": "1", "images": "http://127.0.0.1:9/x.jpg"},
            {"sku": "OK", "name": "Ok", "price": "1"},
        ],
    )

    summary = import_catalog(source=source)

    assert summary.created == 1
    assert "non-public" in summary.failures[0].reason


def test_an_import_announces_its_changes_once_after_the_rows_commit(
    db, csv_catalogue, django_capture_on_commit_callbacks
):
    from catalog.changes import catalog_changed

    announced = []

    def listener(sender, *, changes, **kwargs):
        announced.append(changes)

    catalog_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            import_catalog(source=csv_catalogue)
    finally:
        catalog_changed.disconnect(listener)

    assert len(announced) == 1
    assert (len(announced[0].image_ids), len(announced[0].product_ids)) == (3, 2)


def test_held_out_photo_is_kept_out_even_as_a_byte_identical_copy(db, tmp_path):
    _photo(tmp_path / "a.jpg", (200, 0, 0))
    second = _photo(tmp_path / "b.jpg", (0, 0, 200))
    (tmp_path / "b-copy.jpg").write_bytes(second.read_bytes())
    source = _write_csv(
        tmp_path / "c.csv", [{"sku": "S", "name": "N", "price": "1", "images": "b-copy.jpg|a.jpg|b.jpg"}]
    )

    summary = import_catalog(source=source, hold_out_last_image=True)

    assert summary.held_out == [(str(tmp_path / "b.jpg"), "S")]
    product = Product.objects.get(sku="S")
    assert product.images.count() == 1  # only a.jpg: b.jpg and its copy are the query
