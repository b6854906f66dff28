"""What a shopper gets when a dependency is down: PostgreSQL gone -> a quick 503 with Retry-After
(gunicorn with the production settings and its connection pool); Valkey gone -> reads still 200."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from devtools.production import Server, free_port, production_environment, start_gunicorn
from tests.operations.test_gateway import fetch
from tests.search_fixtures import photo


@pytest.fixture(scope="module")
def app_without_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from django.conf import settings

    closed = free_port()  # nothing listens here: the database is "down"
    env = production_environment(
        DATABASE_URL=f"postgres://shop:secret@127.0.0.1:{closed}/shoplens",
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_KEY_PREFIX="db-down-test:",
        SHOPLENS_ENABLED_ENCODERS="visual",
    )
    server = start_gunicorn(env=env, folder=tmp_path_factory.mktemp("db-down"), workers=1)
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html"),
        ("/search/", "text/html"),
        ("/products/some-product/", "text/html"),
        ("/api/v1/products/", "application/json"),
        ("/api/v1/search/text?q=red", "application/json"),
    ],
)
def test_without_the_database_pages_and_api_answer_503_with_retry_after(app_without_database, path, content_type):
    started = time.perf_counter()
    answer = fetch(app_without_database.url + path)
    elapsed = time.perf_counter() - started
    print(f"{path}: {answer.status} in {elapsed * 1000:.0f} ms")
    assert answer.status == 503, answer.body[:500]
    assert answer.headers["Retry-After"] == "30"
    assert answer.headers["Content-Type"].startswith(content_type)
    assert b"briefly unavailable" in answer.body
    assert b"Traceback" not in answer.body and b"OperationalError" not in answer.body


def test_without_the_database_readyz_names_it_and_healthz_stays_live(app_without_database):
    ready = fetch(app_without_database.url + "/readyz/")
    assert ready.status == 503
    assert [check["name"] for check in ready.json()["down"]] == ["database", "migrations", "worker"]
    assert fetch(app_without_database.url + "/healthz/").status == 200


@pytest.fixture
def cache_down(settings) -> None:
    """The cache (throttles, query vectors) points at a port where nothing listens."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"},
    }


@pytest.mark.django_db
def test_with_the_cache_down_product_list_and_searches_answer_200(api_client, search_catalogue, cache_down, caplog):
    caplog.set_level(logging.WARNING)
    assert api_client.get("/api/v1/products/").status_code == 200
    assert api_client.get("/api/v1/search/text", {"q": "blue box"}).status_code == 200
    upload = SimpleUploadedFile("q.png", photo("star", "red", seed=5), content_type="image/png")
    assert api_client.post("/api/v1/search/image", {"images": [upload]}, format="multipart").status_code == 200
    messages = [record.getMessage() for record in caplog.records]
    assert any("Throttle cache unavailable" in message for message in messages)
    assert any("Query-vector cache unavailable" in message for message in messages)
