"""Search latency through the API and the photo-search page with search analytics on and off.

Runs in a throwaway database (``<NAME>_analytics_bench``) with its own media folder. The demo
catalogue is drawn and indexed in-process, then each round searches one shopper's photo (a view
of a product the catalogue does not hold) once with recording on and once off, in alternating
order, through Django's request handler and all its middleware. ``response_ms`` is what the
client waits for (the handler returning the response); ``after_response_ms`` is what runs once
the response is handed over (``request_finished``: the analytics write). A warm-up round caches
the query vectors, as for a photo searched again, so the model's time does not drown the
difference. ``announce_us_p50`` is the in-request work of recording alone, timed on its own.
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.base import BaseHandler
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from analytics import recording
from analytics.models import SearchEvent
from catalog.changes import batched_changes
from catalog.criteria import ProductCriteria
from devtools.demo_catalogue import demo_catalogue_create, demo_products
from visualsearch.indexing import embed_images, embed_product_texts
from visualsearch.search.events import API, announce_search
from visualsearch.search.types import SearchQuery
from visualsearch.selectors import search_products

CHANNELS = {"api": "/api/v1/search/image", "page": "/search/"}
BENCH_SUFFIX = "_analytics_bench"  # its own: bench_api uses _api_bench
VIEWS = 5  # the catalogue holds views 0-3 of each product; view 4 is the shopper's photo
_addresses = itertools.count()


def measure(*, products: int, queries: int, channels: tuple[str, ...], seed: int, log: Callable[[str], None]) -> dict:
    with (
        tempfile.TemporaryDirectory() as media,
        override_settings(DEBUG=False, MEDIA_ROOT=media, ALLOWED_HOSTS=["testserver"]),
    ):
        started = time.perf_counter()
        with batched_changes(announce_at_end=False):  # indexed below, in this process
            created = demo_catalogue_create(count=products, seed=seed)
        embed_images(image_ids=[image.pk for product in created for image in product.images.all()])
        embed_product_texts(product_ids=[product.pk for product in created])
        log(f"{products} products drawn and indexed in {time.perf_counter() - started:.1f} s")
        photos = [item.photos[-1] for item in demo_products(count=products, seed=seed, photos_per_product=VIEWS)]
        handler = BaseHandler()
        handler.load_middleware()
        report: dict[str, Any] = {"products": products, "queries": queries, "query_photos": len(photos)}
        for channel in channels:
            for photo in photos:  # warm-up: models loaded, query vectors cached
                _search(handler, channel, photo, recording=False)
            report[channel] = _rounds(handler, channel, photos, queries)
            log(f"{channel}: done")
        report["announce_us_p50"] = _announce_cost(photos[0])
    return report


def _rounds(handler: BaseHandler, channel: str, photos: list[bytes], queries: int) -> dict[str, Any]:
    timings: dict[bool, tuple[list[float], list[float]]] = {True: ([], []), False: ([], [])}
    before = SearchEvent.objects.count()
    for n in range(queries):
        for on in (True, False) if n % 2 == 0 else (False, True):
            response_ms, after_ms = _search(handler, channel, photos[n % len(photos)], recording=on)
            timings[on][0].append(response_ms)
            timings[on][1].append(after_ms)
    (on_ms, on_after), (off_ms, off_after) = timings[True], timings[False]
    p50_on, p50_off = statistics.median(on_ms), statistics.median(off_ms)
    return {
        "p50_ms_recording_off": round(p50_off, 2),
        "p50_ms_recording_on": round(p50_on, 2),
        "p50_overhead_percent": round(100 * (p50_on - p50_off) / p50_off, 2),
        "p95_ms_recording_off": round(_p95(off_ms), 2),
        "p95_ms_recording_on": round(_p95(on_ms), 2),
        "after_response_ms_p50_recording_on": round(statistics.median(on_after), 3),
        "after_response_ms_p50_recording_off": round(statistics.median(off_after), 3),
        "events_written": SearchEvent.objects.count() - before,
        "searches_per_mode": queries,
    }


def _search(handler: BaseHandler, channel: str, photo: bytes, *, recording: bool) -> tuple[float, float]:
    upload = SimpleUploadedFile("query.jpg", photo, content_type="image/jpeg")
    # one client address per request keeps the API's throttles from refusing (they still run)
    n = next(_addresses)
    address = f"10.{n // 62500 % 250}.{n // 250 % 250}.{n % 250 + 1}"
    request = RequestFactory().post(CHANNELS[channel], {"images": upload, "limit": 24}, REMOTE_ADDR=address)
    request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
    with override_settings(SHOPLENS_ANALYTICS_ENABLED=recording):
        started = time.perf_counter()
        response: HttpResponse = handler.get_response(request)  # type: ignore[assignment]
        if response.status_code == 303:  # the page keeps the photos, then its results URL searches
            response.close()
            results = RequestFactory().get(response["Location"], REMOTE_ADDR=address)
            response = handler.get_response(results)  # type: ignore[assignment]
        answered = time.perf_counter()
        response.close()  # what the server does once the response is sent: request_finished
        finished = time.perf_counter()
    if response.status_code != 200:
        raise RuntimeError(f"{channel} search answered {response.status_code}: {response.content[:300]!r}")
    return (answered - started) * 1000, (finished - answered) * 1000


def _announce_cost(photo: bytes, *, repeats: int = 2000) -> float:
    """Building the event and keeping it, alone (microseconds; the buffer is emptied unwritten)."""
    query, criteria = SearchQuery(images=(photo,)), ProductCriteria()
    result = search_products(query=query, criteria=criteria, limit=24)
    costs = []
    with override_settings(SHOPLENS_ANALYTICS_ENABLED=True):
        for _ in range(repeats):
            started = time.perf_counter()
            announce_search(request=None, channel=API, query=query, criteria=criteria, limit=24, result=result)
            costs.append((time.perf_counter() - started) * 1e6)
            recording.discard_pending()
    return round(statistics.median(costs), 1)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
