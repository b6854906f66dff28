"""The production settings behind the real nginx with the repository's config, all on loopback:
gunicorn, nginx, a Celery worker and a Valkey of this module's own (stopping it harms no other test)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from catalog import services
from catalog.thumbnails import thumbnail_url
from config.embedded import EmbeddedValkey
from devtools.production import Server, production_environment, start_gunicorn
from tests.encoder_fixtures import image_bytes, make_product_photo
from tests.operations.stack import collect_static, self_signed_certificate, start_nginx
from tests.worker_fixtures import WorkerProcess, database_url, start_worker, worker_environment

UPLOAD_LIMIT = 1024 * 1024
REQUEST_LIMIT = UPLOAD_LIMIT * 5 + 1024 * 1024
KEY_PREFIX = "gateway-test:"


@dataclass
class Stack:
    gateway: Server
    app: Server
    worker: WorkerProcess
    valkey: EmbeddedValkey
    media_root: Path
    static_root: Path


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def fetch(
    url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None, context: ssl.SSLContext | None = None
) -> Answer:
    """One request, redirects not followed (a 3xx is an answer to look at)."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    opener = urllib.request.build_opener(_NoRedirects, urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(request, timeout=30) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read())


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("gateway")
    media_root, static_root = folder / "media", folder / "static"
    media_root.mkdir()
    valkey = EmbeddedValkey(folder / "valkey")
    redis_url = valkey.acquire()
    with django_db_blocker.unblock():
        db_url = database_url()
    env = production_environment(
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        CELERY_BROKER_KEY_PREFIX=KEY_PREFIX,
        DJANGO_MEDIA_ROOT=str(media_root),
        DJANGO_STATIC_ROOT=str(static_root),
        SHOPLENS_MAX_UPLOAD_BYTES=str(UPLOAD_LIMIT),
        SHOPLENS_SEARCH_THROTTLE_RATE="3/min",
        SHOPLENS_ENABLED_ENCODERS="visual",
    )
    started: list[Server] = []
    worker = None
    try:
        collect_static(env=env)
        worker_env = worker_environment(
            media_root=media_root,
            clip_model="unused",
            extra={"REDIS_URL": redis_url, "CELERY_BROKER_KEY_PREFIX": KEY_PREFIX, "DATABASE_URL": db_url},
        )
        worker = start_worker(env=worker_env, log_path=folder / "worker.log", queues="embeddings,default")
        started.append(app := start_gunicorn(env=env, folder=folder))
        upstream = app.url.removeprefix("http://")
        started.append(
            gateway := start_nginx(
                upstream=upstream,
                folder=folder,
                static_root=static_root,
                media_root=media_root,
                max_request_bytes=REQUEST_LIMIT,
            )
        )
        yield Stack(gateway, app, worker, valkey, media_root, static_root)
    finally:
        for server in reversed(started):
            server.stop()
            print(f"--- {server.name} log (end) ---\n{server.log()[-3000:]}")
        if worker is not None:
            worker.stop()
        valkey.release()


@pytest.fixture
def indexed_photo(stack: Stack, settings, transactional_db):
    """A product with one photo, indexed (with its thumbnails) by the real task, committed."""
    from visualsearch.tasks import embed_product_images

    settings.MEDIA_ROOT = str(stack.media_root)
    settings.SHOPLENS_ENABLED_ENCODERS = ["visual"]
    photo = image_bytes(make_product_photo("star", "red"), "JPEG")
    product = services.product_create(
        sku="GW-1", name="Gateway star", price=Decimal(10), images=[services.ImageUpload(file=photo, name="star.jpg")]
    )
    image = product.images.get()
    embed_product_images.apply(args=[[image.pk]])
    image.refresh_from_db()
    return image


def test_a_photo_and_its_thumbnails_answer_200_through_the_gateway(stack: Stack, indexed_photo) -> None:
    original = fetch(stack.gateway.url + indexed_photo.image.url)
    assert original.status == 200 and original.headers["Content-Type"] == "image/jpeg"
    for kind in ("jpeg", "webp"):
        url = thumbnail_url(indexed_photo, 320, kind)
        assert url is not None and url.startswith("/media/CACHE/")
        thumb = fetch(stack.gateway.url + url)
        assert thumb.status == 200 and thumb.headers["Content-Type"] == f"image/{kind}"
        assert "max-age=" in thumb.headers["Cache-Control"]
    api = fetch(f"{stack.gateway.url}/api/v1/products/{indexed_photo.product_id}/").json()
    assert fetch(api["thumbnail_url"]).status == 200  # absolute, through the gateway's host and port


def test_static_files_are_served_by_the_gateway_with_long_cache_headers(stack: Stack) -> None:
    manifest = json.loads((stack.static_root / "staticfiles.json").read_text())
    answer = fetch(f"{stack.gateway.url}/static/{manifest['paths']['css/shop.css']}")
    assert answer.status == 200
    assert "max-age=31536000" in answer.headers["Cache-Control"] and "immutable" in answer.headers["Cache-Control"]
    assert "X-Request-ID" not in answer.headers  # nginx answered, not Django


def test_an_upload_over_the_limit_gets_413_from_the_gateway(stack: Stack) -> None:
    body = b"x" * (REQUEST_LIMIT + 1)
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    answer = fetch(f"{stack.gateway.url}/api/v1/search/image", data=body, headers=headers)
    assert answer.status == 413
    assert answer.json()["error"]["code"] == "too_large"
    assert "X-Request-ID" not in answer.headers  # refused before gunicorn saw a byte
    assert fetch(f"{stack.gateway.url}/search/", data=body, headers=headers).status == 413


def test_a_varying_x_forwarded_for_does_not_escape_the_throttle(stack: Stack) -> None:
    statuses = [
        fetch(f"{stack.gateway.url}/api/v1/search/text?q=", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status
        for n in range(6)
    ]
    assert statuses[:3] == [400, 400, 400]  # empty query: refused without running a model
    assert statuses[3:] == [429, 429, 429]


def test_with_certificates_the_gateway_speaks_tls_and_redirects_http_to_its_tls_port(stack: Stack, tmp_path) -> None:
    certificate = self_signed_certificate(tmp_path)
    gateway = start_nginx(
        upstream=stack.app.url.removeprefix("http://"),
        folder=tmp_path / "tls",
        static_root=stack.static_root,
        media_root=stack.media_root,
        max_request_bytes=REQUEST_LIMIT,
        tls=certificate,
    )
    try:
        redirect = fetch(f"{gateway.http_url}/search/?q=lamp")
        assert redirect.status == 301
        assert redirect.headers["Location"] == f"{gateway.url.replace('localhost', '127.0.0.1')}/search/?q=lamp"
        secure = fetch(
            f"{gateway.url}/api/v1/categories/", context=ssl.create_default_context(cafile=str(certificate[0]))
        )
        assert secure.status == 200
        assert "max-age=" in secure.headers["Strict-Transport-Security"]  # Django saw X-Forwarded-Proto: https
    finally:
        gateway.stop()


def test_readyz_answers_200_then_503_naming_the_broker_when_it_stops(stack: Stack) -> None:
    ready = fetch(f"{stack.gateway.url}/readyz/")
    assert ready.status == 200, ready.body
    assert {name for name, check in ready.json()["checks"].items() if check["ok"]} == {
        "database", "migrations", "broker", "worker",
    }  # fmt: skip
    stack.valkey.release()  # the module's own Valkey: nothing else uses it
    down = fetch(f"{stack.gateway.url}/readyz/")
    assert down.status == 503
    body = down.json()
    assert body["status"] == "unavailable"
    assert {check["name"] for check in body["down"]} == {"broker", "worker"}
    assert "Connection" in body["checks"]["broker"]["detail"]
    assert fetch(f"{stack.gateway.url}/healthz/").status == 200  # liveness is not readiness
