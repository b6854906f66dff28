"""Photo search through the API on gunicorn, against the bare encoder on the same photos.

A throwaway database ``<NAME>_api_bench`` gets a small drawn catalogue (indexed in this process);
gunicorn (one worker, local settings, the same torch threads as this process) serves it. For
each new photo (never searched before, so the query-vector cache misses) this process first times
the bare visual encoder (decode + preprocess + model), then posts the photo to
``/api/v1/search/image`` and records the client's wall time and the answer's ``query_time_ms``
(the server's time in the search selector). Medians over the photos; ``server_over_bare`` is
the ratio of the medians.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection

from analytics.models import SearchEvent
from catalog.changes import batched_changes
from catalog.imaging import read_image
from catalog.models import Product, ProductImage
from devtools import processes
from devtools.databases import database_beside
from devtools.demo_catalogue import demo_catalogue_create, demo_products
from visualsearch import indexing
from visualsearch.encoders import get_encoder

ENCODER = "visual"


def run(*, products: int, photos: int, port: int, say: Any) -> dict[str, Any]:
    import torch

    threads = torch.get_num_threads()
    queries = [item.photos[0] for item in demo_products(count=photos + 1, seed=4242)]  # not in the catalogue
    encoder = get_encoder(ENCODER)
    media = Path(tempfile.mkdtemp(prefix="shoplens-api-bench-media-"))
    with database_beside("_api_bench", fresh=True, keep=False) as database:
        say(f"Drawing and indexing {products} products…")
        settings.MEDIA_ROOT = str(media)
        with batched_changes(announce_at_end=False):
            demo_catalogue_create(count=products, seed=7)
        indexing.embed_images(image_ids=list(ProductImage.objects.values_list("pk", flat=True)))
        indexing.embed_product_texts(product_ids=list(Product.objects.values_list("pk", flat=True)))
        with connection.cursor() as cursor:  # the planner's statistics, as autovacuum keeps them in a live shop
            cursor.execute("ANALYZE")
        server = _start_gunicorn(database, media, port, threads)
        try:
            _wait_until_up(port, server)
            _post(port, queries[0])  # warm-up: the worker loads the models
            bare, client, served = [], [], []
            for photo in queries[1:]:
                started = time.perf_counter()
                encoder.encode_images([read_image(photo, min_side=encoder.input_side)])
                bare.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                answer = _post(port, photo)
                client.append((time.perf_counter() - started) * 1000)
                served.append(float(answer["query_time_ms"]))
            phases = _phases_p50_ms(skip=1)  # the analytics rows the worker wrote after each answer
        finally:
            server.stop()
    return {
        "encoder": ENCODER, "products": products, "photos": photos, "torch_threads": threads,
        "cpu_count": os.cpu_count(), "server": "gunicorn, 1 worker (sync), local settings, DEBUG off",
        "bare_encoder_p50_ms": round(statistics.median(bare), 2),
        "server_query_time_p50_ms": round(statistics.median(served), 2),
        "server_phases_p50_ms": phases,
        "client_p50_ms": round(statistics.median(client), 2),
        "server_over_bare": round(statistics.median(served) / statistics.median(bare), 3),
        "client_over_bare": round(statistics.median(client) / statistics.median(bare), 3),
    }  # fmt: skip


def _phases_p50_ms(*, skip: int) -> dict[str, float]:
    """Medians of the selector's own phases over the recorded searches, the first ``skip`` left
    out: encode (the query's decode, validation, vector cache and encoders), search (SQL and
    ranking) and load (the products of the hits)."""
    rows = list(SearchEvent.objects.order_by("pk").values_list("encode_ms", "search_ms", "load_ms")[skip:])
    if not rows:
        return {}
    return {
        name: round(statistics.median(row[index] for row in rows), 2)
        for index, name in enumerate(("encode", "search", "load"))
    }


def _start_gunicorn(database: dict[str, Any], media: Path, port: int, threads: int) -> processes.ChildProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": processes.database_url(database),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_MEDIA_ROOT": str(media),
        "SHOPLENS_ENABLED_ENCODERS": ",".join(settings.SHOPLENS_ENABLED_ENCODERS),
        "SHOPLENS_TORCH_THREADS": str(threads),
        "SHOPLENS_SEARCH_THROTTLE_RATE": "100000/min",
        "API_ANON_THROTTLE_RATE": "100000/min",
    }
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "120",
    ]  # fmt: skip
    log = Path(tempfile.mkstemp(prefix="shoplens-api-bench-", suffix=".log")[1])
    return processes.start(command, env=env, log_path=log)


def _wait_until_up(port: int, server: processes.ChildProcess, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not processes.port_in_use("127.0.0.1", port):
        if not server.alive or time.monotonic() > deadline:
            raise CommandError(f"gunicorn did not start:\n{server.log()[-3000:]}")
        time.sleep(0.2)


def _post(port: int, photo: bytes) -> dict[str, Any]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="images"; filename="q.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/search/image",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Host": "localhost"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:
        raise CommandError(f"The API answered {error.code}: {error.read()[:500]!r}") from error
