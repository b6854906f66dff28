"""Searches and read-only pages are served by a real hot standby; writes and the admin by the
primary; a replica that is down or lags is skipped."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import connections

from catalog import replicas, services
from catalog.criteria import ProductCriteria
from catalog.models import Product
from devtools.standby import Standby, primary_lsn
from tests.encoder_fixtures import image_bytes, make_product_photo
from visualsearch.indexing import embed_images
from visualsearch.search.types import SearchQuery
from visualsearch.selectors import search_products

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica1"])  # committed rows only


@pytest.fixture
def replica(standby: Standby, settings, use_tiny_clip) -> Iterator[Standby]:
    settings.SHOPLENS_REPLICA_DATABASES = ["replica1"]
    settings.SHOPLENS_REPLICA_CHECK_SECONDS = 0  # check the replica before every read
    settings.SHOPLENS_REPLICA_MAX_LAG_SECONDS = 3600
    settings.SHOPLENS_ENABLED_ENCODERS = ["clip"]
    replicas._states.clear()
    yield standby
    replicas._states.clear()


def _photo(colour: str) -> bytes:
    return image_bytes(make_product_photo("circle", colour, size=(256, 256), seed=1), "JPEG", quality=90)


def _indexed_product(sku: str, colour: str = "red") -> Product:
    product = services.product_create(
        sku=sku,
        name=f"Replica test {sku}",
        price=Decimal("10.00"),
        stock=3,
        images=[services.ImageUpload(file=_photo(colour), name=f"{sku}.jpg")],
    )
    report = embed_images(image_ids=[image.pk for image in product.images.all()], encoder_names=["clip"])
    assert not report.failed, report
    return product


def _replayed(standby: Standby) -> None:
    default = connections["default"].settings_dict
    standby.wait_for(primary_lsn(str(default["HOST"]), str(default["USER"])))


def _pause_replay(standby: Standby) -> None:
    with standby.connect() as conn:
        conn.execute("SELECT pg_wal_replay_pause()")


def _found() -> set[str]:
    result = search_products(query=SearchQuery(images=(_photo("red"),)), criteria=ProductCriteria(), limit=10)
    return {hit.product.sku for hit in result.hits}


def test_a_search_is_served_by_the_replica_once_replayed(replica: Standby) -> None:
    _indexed_product("R-1")
    _replayed(replica)
    _pause_replay(replica)
    _indexed_product("R-2")  # committed on the primary, not replayed on the replica

    assert _found() == {"R-1"}, "the replica answered, as of its last replayed transaction"

    with replica.connect() as conn:
        conn.execute("SELECT pg_wal_replay_resume()")
    _replayed(replica)
    assert _found() == {"R-1", "R-2"}


def test_a_replica_lagging_more_than_allowed_is_skipped(replica: Standby, settings) -> None:
    _indexed_product("L-1")
    _replayed(replica)
    _pause_replay(replica)
    _indexed_product("L-2")
    settings.SHOPLENS_REPLICA_MAX_LAG_SECONDS = 0.2
    time.sleep(0.5)

    assert replicas.state("replica1").lag_seconds > 0.2  # type: ignore[operator]
    assert _found() == {"L-1", "L-2"}, "the primary answered"


def test_search_answers_from_the_primary_when_the_replica_is_stopped(replica: Standby, settings) -> None:
    _indexed_product("S-1")
    _replayed(replica)
    assert _found() == {"S-1"}
    settings.SHOPLENS_REPLICA_CHECK_SECONDS = 3600  # the replica still counts as healthy ...
    replica.stop()  # ... when it goes down: the search fails on it and is run again on the primary
    _indexed_product("S-2")

    assert _found() == {"S-1", "S-2"}
    assert replicas.state("replica1").lag_seconds is None, "marked down until its next check"
    settings.SHOPLENS_REPLICA_CHECK_SECONDS = 0
    assert _found() == {"S-1", "S-2"}, "a replica that does not answer its check is skipped"


def test_read_only_api_requests_read_the_replica_and_the_admin_the_primary(replica: Standby, admin_client) -> None:
    _indexed_product("A-1")
    _replayed(replica)
    _pause_replay(replica)
    _indexed_product("A-2")

    listed = admin_client.get("/api/v1/products/").json()["results"]
    assert {product["sku"] for product in listed} == {"A-1"}
    changelist = admin_client.get("/admin/catalog/product/").content.decode()
    assert "A-1" in changelist and "A-2" in changelist


def test_an_object_read_from_the_replica_is_saved_on_the_primary(replica: Standby) -> None:
    product = _indexed_product("W-1")
    _replayed(replica)
    from_replica = Product.objects.using("replica1").get(pk=product.pk)
    from_replica.name = "Renamed"
    from_replica.save(update_fields=["name"])  # a replica would refuse: read-only transaction

    assert Product.objects.using("default").get(pk=product.pk).name == "Renamed"
