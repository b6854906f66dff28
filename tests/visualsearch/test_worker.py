"""Indexing through the real broker and a real ``celery -A config worker`` process."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

import pytest
from django.db import transaction

from catalog import services as catalog
from catalog.changes import announce, batched_changes
from catalog.models import IndexingStatus, Product, ProductImage
from tests.visualsearch.test_indexing import photo, png_bomb, stored_bad_photo
from tests.worker_fixtures import wait_until
from visualsearch.models import ImageEmbedding, ProductTextEmbedding

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("worker_settings")]


def create_product(sku: str, *colours: str) -> Product:
    return catalog.product_create(
        sku=sku,
        name=f"Product {sku}",
        price=Decimal("10"),
        images=[catalog.ImageUpload(file=photo(colour, seed=i)) for i, colour in enumerate(colours)],
    )


def image_ids(product: Product) -> list[int]:
    return list(product.images.order_by("pk").values_list("pk", flat=True))


def settled(ids: Sequence[int]) -> Callable[[], bool]:
    def check() -> bool:
        statuses = list(ProductImage.objects.filter(pk__in=ids).values_list("indexing_status", flat=True))
        return len(statuses) == len(ids) and IndexingStatus.PENDING not in statuses

    return check


def statuses(ids: Sequence[int]) -> list[str]:
    by_id = dict(ProductImage.objects.filter(pk__in=ids).values_list("pk", "indexing_status"))
    return [by_id[pk] for pk in ids]


def vectors_by_encoder(ids: Sequence[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for encoder in ImageEmbedding.objects.filter(image_id__in=ids).values_list("space__encoder", flat=True):
        counts[encoder] = counts.get(encoder, 0) + 1
    return counts


def test_saved_product_gets_vectors_for_every_encoder_through_broker_and_worker(worker_factory) -> None:
    worker_factory()

    product = create_product("W-1", "red", "blue")
    ids = image_ids(product)

    wait_until(settled(ids), timeout=120)
    wait_until(lambda: ProductTextEmbedding.objects.filter(product=product).exists(), timeout=30)
    assert statuses(ids) == ["ready", "ready"]
    assert vectors_by_encoder(ids) == {"clip": 2, "visual": 2}
    assert ProductTextEmbedding.objects.get(product=product).space.encoder == "text"


def test_identical_bytes_are_not_embedded_twice_by_the_worker(worker_factory) -> None:
    worker = worker_factory()
    first = create_product("W-A", "green")
    wait_until(settled(image_ids(first)), timeout=120)
    log_mark = len(worker.log())

    second = create_product("W-B", "green")  # the very same bytes on another product
    wait_until(settled(image_ids(second)), timeout=120)

    assert "0 computed, 2 reused" in worker.log()[log_mark:]
    assert vectors_by_encoder(image_ids(second)) == {"clip": 1, "visual": 1}


def test_bad_photos_fail_with_their_reason_and_the_worker_carries_on(worker_factory) -> None:
    worker = worker_factory()
    with transaction.atomic():
        good = create_product("W-G", "red")
        bad = [
            stored_bad_photo(b"not an image at all").pk,
            stored_bad_photo(photo("blue")[:-300]).pk,
            stored_bad_photo(b"").pk,
            stored_bad_photo(png_bomb()).pk,
        ]
        announce(image_ids=[*bad, *image_ids(good)])  # one batch with all of them

    wait_until(settled([*bad, *image_ids(good)]), timeout=120)

    errors = dict(ProductImage.objects.filter(pk__in=bad).values_list("pk", "indexing_error"))
    assert statuses(bad) == ["failed"] * 4
    assert "not an image" in errors[bad[0]]
    assert "incomplete or damaged" in errors[bad[1]]
    assert "empty" in errors[bad[2]]
    assert "too large" in errors[bad[3]]
    assert statuses(image_ids(good)) == ["ready"]
    later = create_product("W-L", "yellow")
    wait_until(settled(image_ids(later)), timeout=120)
    assert worker.process.poll() is None


def test_worker_killed_mid_batch_loses_nothing(worker_factory) -> None:
    doomed = worker_factory(extra={"SHOPLENS_INDEXING_TEST_DELAY_S": "2"}, name="doomed")
    with batched_changes():  # the four photos travel as one task
        product = create_product("W-K", "red", "green", "blue", "purple")
    ids = image_ids(product)
    doomed.wait_for_log("Test delay", timeout=30)

    doomed.kill()  # SIGKILL halfway through the 8 s batch: no ack, no cleanup

    assert statuses(ids) == ["pending"] * 4
    assert not ImageEmbedding.objects.filter(image_id__in=ids).exists()
    worker_factory(name="rescuer")  # the unacknowledged batch goes back on the queue
    wait_until(settled(ids), timeout=120)
    assert statuses(ids) == ["ready"] * 4
    assert vectors_by_encoder(ids) == {"clip": 4, "visual": 4}
