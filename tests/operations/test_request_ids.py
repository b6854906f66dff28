"""Every response carries a request id; a Celery task that a request enqueued logs the same id."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from catalog import services
from operations.request_ids import current_request_id


@pytest.mark.django_db
def test_responses_carry_a_request_id_and_keep_a_sane_one_from_the_client(client):
    made = client.get("/healthz/")["X-Request-ID"]
    assert len(made) == 32
    assert client.get("/healthz/", headers={"X-Request-ID": "gateway-abc12345"})["X-Request-ID"] == "gateway-abc12345"
    assert client.get("/healthz/", headers={"X-Request-ID": "bad id\n"})["X-Request-ID"] != "bad id\n"


def test_a_task_enqueued_by_a_request_logs_its_request_id(worker_settings, worker_factory):
    from visualsearch.tasks import embed_product_texts

    worker = worker_factory(extra={"DJANGO_LOG_FORMAT": "json", "SHOPLENS_ENABLED_ENCODERS": "text"})
    product = services.product_create(sku="RID-1", name="Traced lamp", price=Decimal(5))
    token = current_request_id.set("req-0123456789abcdef")
    try:
        sent = embed_product_texts.delay([product.pk], force=True)
    finally:
        current_request_id.reset(token)
    worker.wait_for_log(f"[{sent.id}] succeeded in", timeout=90)
    lines = [json.loads(line) for line in worker.log().splitlines() if line.startswith("{")]
    done = [line for line in lines if f"[{sent.id}] succeeded" in line["message"]]
    assert done and done[0]["request_id"] == "req-0123456789abcdef"
