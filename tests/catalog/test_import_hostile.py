"""The importer against hostile or awkward sources: devices and FIFOs as photo paths, a server
that drips bytes, HTML descriptions; and its economy: known photos are never decoded again and
indexing is queued while the import goes on."""

from __future__ import annotations

import csv
import http.server
import ipaddress
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from catalog import imaging
from catalog.importers import import_catalog, run
from catalog.importers.fetch import ImageFetchError, SafeFetcher
from catalog.importers.markup import html_to_text
from catalog.models import Product

COLUMNS = ["sku", "name", "description", "price", "images"]


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({column: row.get(column, "") for column in COLUMNS} for row in rows)
    return path


def _photo(path: Path, colour: tuple[int, int, int]) -> str:
    Image.new("RGB", (24, 16), colour).save(path, format="JPEG")
    return path.name


@pytest.mark.django_db
def test_devices_fifos_and_folders_fail_their_row_only(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.jpg")
    (tmp_path / "folder.jpg").mkdir()
    ok = _photo(tmp_path / "ok.jpg", (10, 200, 10))
    source = _csv(
        tmp_path / "c.csv",
        [
            {"sku": "ZERO", "name": "Zero", "price": "1", "images": "/dev/zero"},
            {"sku": "PIPE", "name": "Pipe", "price": "1", "images": "pipe.jpg"},
            {"sku": "DIR", "name": "Dir", "price": "1", "images": "folder.jpg"},
            {"sku": "OK", "name": "Fine", "price": "1", "images": ok},
        ],
    )

    summary = import_catalog(source=source)

    reasons = {failure.sku: failure.reason for failure in summary.failures}
    assert set(reasons) == {"ZERO", "PIPE", "DIR"}
    assert all("not a regular file" in reason for reason in reasons.values())
    assert list(Product.objects.values_list("sku", flat=True)) == ["OK"]
    assert Product.objects.get(sku="OK").images.count() == 1


class _DrippingServer(http.server.BaseHTTPRequestHandler):
    """Promises a 1000-byte PNG and sends one byte of it every 2 s."""

    stop = threading.Event()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        for byte in (b"\x89PNG\r\n\x1a\n" + bytes(992))[:1000]:
            if self.stop.wait(2.0):
                return
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def dripping_server() -> Iterator[str]:
    _DrippingServer.stop.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DrippingServer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"drip.test:{server.server_address[1]}"
    _DrippingServer.stop.set()
    server.shutdown()
    server.server_close()


def _fetcher(deadline: float) -> SafeFetcher:
    # The server is on loopback; allow exactly that address, as a public one would be.
    return SafeFetcher(
        timeout=10,
        deadline=deadline,
        retries=2,
        backoff=0.1,
        resolver=lambda host, port: ["127.0.0.1"],
        is_allowed=lambda address: address == ipaddress.ip_address("127.0.0.1"),
    )


def test_a_dripping_server_is_abandoned_at_the_deadline(dripping_server: str) -> None:
    started = time.monotonic()
    with pytest.raises(ImageFetchError, match="within the 3 s deadline"):
        _fetcher(deadline=3).fetch(f"http://{dripping_server}/slow.png")
    # Each byte comes well inside the 10 s read timeout; only the total deadline stops it.
    assert time.monotonic() - started < 3 + 1.5


@pytest.mark.django_db
def test_a_dripping_photo_fails_its_row_and_the_next_row_imports(tmp_path: Path, dripping_server: str) -> None:
    source = _csv(
        tmp_path / "c.csv",
        [
            {"sku": "SLOW", "name": "Slow", "price": "1", "images": f"http://{dripping_server}/slow.png"},
            {"sku": "NEXT", "name": "Next", "price": "1"},
        ],
    )

    summary = import_catalog(source=source, fetcher=_fetcher(deadline=2))

    assert [failure.sku for failure in summary.failures] == ["SLOW"]
    assert "deadline" in summary.failures[0].reason
    assert list(Product.objects.values_list("sku", flat=True)) == ["NEXT"]


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts full image decodes (every read_image / image_info goes through ``_decode``)."""
    calls: list[int] = []
    real = imaging._decode

    def counting(data: bytes, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(data))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(imaging, "_decode", counting)
    return calls


@pytest.mark.django_db
def test_each_photo_is_decoded_once_and_an_unchanged_reimport_decodes_none(tmp_path: Path, decodes) -> None:
    colours = [(200, 0, 0), (0, 200, 0), (0, 0, 200)]
    photos = [_photo(tmp_path / f"{index}.jpg", colour) for index, colour in enumerate(colours)]
    source = _csv(
        tmp_path / "c.csv",
        [
            {"sku": "A", "name": "A", "price": "1", "images": f"{photos[0]}|{photos[1]}"},
            {"sku": "B", "name": "B", "price": "2", "images": photos[2]},
        ],
    )

    first = import_catalog(source=source)
    assert (first.created, first.images_added, len(decodes)) == (2, 3, 3)

    decodes.clear()
    second = import_catalog(source=source)
    assert (second.unchanged, second.images_added) == (2, 0)
    assert decodes == []


@pytest.mark.django_db(transaction=True)  # real commits, so queueing happens when it would in production
def test_indexing_is_queued_while_the_import_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from visualsearch import tasks

    rows = [{"sku": f"P{n}", "name": f"P{n}", "price": "1", "images": _photo(tmp_path / f"{n}.jpg", (n * 20, 9, 9))}
            for n in range(10)]  # fmt: skip
    source = _csv(tmp_path / "c.csv", rows)
    monkeypatch.setattr(run, "QUEUE_EVERY_PHOTOS", 4)
    products_when_sent: list[int] = []
    monkeypatch.setattr(
        tasks.embed_product_images, "delay", lambda ids, force=False: products_when_sent.append(Product.objects.count())
    )
    monkeypatch.setattr(tasks.embed_product_texts, "delay", lambda ids, force=False: None)

    import_catalog(source=source)

    assert products_when_sent[0] == 4  # the first four rows' photos went out before row five
    assert len(products_when_sent) == 3  # 4 + 4 + the last 2


@pytest.mark.django_db
def test_html_descriptions_are_stored_as_text(tmp_path: Path) -> None:
    description = "<p>Soft <b>cotton</b> &amp; linen</p><ul><li>Red</li><li>Blue</li></ul><script>alert(1)</script>"
    source = _csv(tmp_path / "c.csv", [{"sku": "H", "name": "Shirt", "price": "1", "description": description}])

    import_catalog(source=source)

    assert Product.objects.get(sku="H").description == "Soft cotton & linen\nRed\nBlue"


def test_plain_text_with_angle_brackets_is_left_alone() -> None:
    assert html_to_text("fits sizes < 5 and > 2") == "fits sizes < 5 and > 2"
