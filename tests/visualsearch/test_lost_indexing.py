"""Indexing that is lost on the way is found again: writes made while the broker is down answer
success and are indexed once it is back, and a worker killed with ``kill -9`` (its children too)
loses neither photos nor product texts, through a real broker, a real worker and the sweep."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog import services as catalog
from catalog.changes import batched_changes
from catalog.models import IndexingStatus, Product, ProductImage
from config.celery import app
from devtools.bench.embed import drop_broker_connections
from tests.visualsearch.test_indexing import photo
from tests.worker_fixtures import wait_until
from visualsearch import tasks
from visualsearch.models import EmbeddingSpace, ImageEmbedding, ProductTextEmbedding

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("worker_settings")]
# Long enough that the broker cannot be what hands a lost batch out again within the test.
NO_REDELIVERY = {"CELERY_VISIBILITY_TIMEOUT": "600"}


@contextmanager
def broker_down() -> Iterator[None]:
    """This process's broker is an address where nothing listens (connection refused), as when
    Redis/Valkey is stopped; the worker keeps the real one, which "comes back" at the end."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    conf: Any = app.conf
    real = conf.broker_url
    drop_broker_connections(app)
    conf.broker_url = f"redis://127.0.0.1:{port}/0"
    try:
        yield
    finally:
        drop_broker_connections(app)
        conf.broker_url = real


def _fully_indexed(product_ids: list[int]) -> bool:
    photos = ProductImage.objects.filter(product_id__in=product_ids)
    image_spaces = EmbeddingSpace.objects.filter(modality="image", status="active").count()
    texts = ProductTextEmbedding.objects.filter(product_id__in=product_ids, space__status="active").count()
    return (
        photos.exists()
        and not photos.exclude(indexing_status=IndexingStatus.READY).exists()
        and ImageEmbedding.objects.filter(image__in=photos, space__status="active").count()
        == photos.count() * image_spaces
        and texts == len(product_ids)
    )


def _sweep_now(settings) -> dict[str, object]:
    settings.SHOPLENS_INDEXING_STUCK_MINUTES = 0  # everything pending or missing counts as lost
    return tasks.sweep_indexing()


def _admin_add_with_photo(client, sku: str) -> int:
    data = {
        "sku": sku, "name": f"Lamp {sku}", "description": "", "price": "5.00", "currency": "USD", "stock": "1",
        "rating": "", "is_active": "on", "attributes": "{}", "images-TOTAL_FORMS": "1", "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0", "images-MAX_NUM_FORMS": "1000", "images-0-alt_text": "", "images-0-position": "0",
        "images-0-image": SimpleUploadedFile("lamp.png", photo("teal"), content_type="image/png"),
    }  # fmt: skip
    response = client.post("/admin/catalog/product/add/", data)
    assert response.status_code == 302, response.content.decode()[:1000]
    return Product.objects.get(sku=sku).pk


def test_writes_while_the_broker_is_down_succeed_and_are_indexed_once_it_is_back(
    worker_factory, client, settings, caplog
) -> None:
    worker_factory(extra=NO_REDELIVERY)
    admin = User.objects.create_superuser("admin", "a@example.com", "x")
    client.force_login(admin)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin).key}")

    with broker_down(), caplog.at_level(logging.WARNING, logger="visualsearch.tasks"):
        from_admin = _admin_add_with_photo(client, "DOWN-1")
        response = api.post(
            "/api/v1/products/",
            {"sku": "DOWN-2", "name": "Mug", "price": "3",
             "images": [SimpleUploadedFile("mug.png", photo("navy"), content_type="image/png")]},
            format="multipart",
        )  # fmt: skip
        assert response.status_code == 201, response.content[:500]
    from_api = response.json()["id"]

    assert "Broker unreachable" in caplog.text
    assert set(ProductImage.objects.values_list("indexing_status", flat=True)) == {IndexingStatus.PENDING}
    assert Product.objects.count() == 2  # each once: the user was told it worked, nobody retries

    report = _sweep_now(settings)  # the broker is back

    assert report["stuck_images"] == 2 and report["missing_products"] == 2
    wait_until(lambda: _fully_indexed([from_admin, from_api]), timeout=180)


def test_a_worker_killed_with_its_children_loses_no_photo_and_no_product_text(worker_factory, settings) -> None:
    slow = {**NO_REDELIVERY, "SHOPLENS_INDEXING_TEST_DELAY_S": "3"}
    doomed = worker_factory(extra=slow, name="doomed", concurrency=2)
    with batched_changes():  # one photo batch and one text batch, one for each worker process
        products = [
            catalog.product_create(
                sku=f"K-{n}", name=f"Kettle {n}", price=Decimal("10"),
                images=[catalog.ImageUpload(file=photo(colour, seed=n)) for colour in ("red", "blue")],
            )
            for n in range(2)
        ]  # fmt: skip
    ids = [product.pk for product in products]
    doomed.wait_for_log("Test delay: 12.0 s for 4", timeout=60)
    doomed.wait_for_log("Test delay: 6.0 s for 2", timeout=60)

    doomed.kill()  # SIGKILL to the main process and both children: both batches unacknowledged

    assert not ImageEmbedding.objects.exists() and not ProductTextEmbedding.objects.exists()
    worker_factory(extra=NO_REDELIVERY, name="rescuer")
    report = _sweep_now(settings)
    assert report["stuck_images"] == 4 and report["missing_products"] == 2
    wait_until(lambda: _fully_indexed(ids), timeout=180)
