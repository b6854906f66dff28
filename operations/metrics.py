"""Prometheus metrics. Counters and histograms are fed by visualsearch's events and the request
middleware; catalogue gauges (photos by status, vectors per space, queue depth) are read at scrape
time. With ``PROMETHEUS_MULTIPROC_DIR`` set, every gunicorn worker's samples are summed."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

logger = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "shoplens_http_request_duration_seconds",
    "Time to answer a request, by view and status.",
    ["method", "view", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SEARCH_SECONDS = Histogram(
    "shoplens_search_duration_seconds",
    "Time of a search_products call (query encoding included), by query kind and encoders used.",
    ["kind", "encoders"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
QUERY_CACHE = Counter(
    "shoplens_query_vector_cache_total", "Query-embedding cache lookups by encoder and result.", ["encoder", "result"]
)
MODEL_LOAD_SECONDS = Gauge(
    "shoplens_model_load_seconds",
    "Seconds the last load of each encoder took in a process.",
    ["encoder"],
    multiprocess_mode="max",
)


def _on_search(result: Any, **kwargs: Any) -> None:
    encoders = "+".join(sorted(result.encoders)) or "none"
    SEARCH_SECONDS.labels(kind=result.kind or "unknown", encoders=encoders).observe(result.query_time_ms / 1000)


def _on_cache_lookup(encoder: str, hit: bool, **kwargs: Any) -> None:
    QUERY_CACHE.labels(encoder=encoder, result="hit" if hit else "miss").inc()


def _on_encoder_loaded(encoder: str, seconds: float, **kwargs: Any) -> None:
    MODEL_LOAD_SECONDS.labels(encoder=encoder).set(seconds)
    logger.info("Encoder %s loaded in %.2f s", encoder, seconds)


def connect_receivers() -> None:
    from visualsearch import events

    events.search_completed.connect(_on_search, dispatch_uid="shoplens-metrics-search")
    events.query_vector_cache_lookup.connect(_on_cache_lookup, dispatch_uid="shoplens-metrics-cache")
    events.encoder_loaded.connect(_on_encoder_loaded, dispatch_uid="shoplens-metrics-load")


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else "unmatched"
        REQUEST_SECONDS.labels(request.method, view, str(response.status_code)).observe(time.perf_counter() - started)
        return response


class CatalogueCollector(Collector):
    """Indexing state read from the database and the broker at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from catalog.models import ProductImage
        from visualsearch.models import EmbeddingSpace, ImageEmbedding, ProductTextEmbedding

        photos = GaugeMetricFamily("shoplens_photos", "Product photos by indexing status.", labels=["status"])
        for row in ProductImage.objects.order_by().values("indexing_status").annotate(n=Count("id")):
            photos.add_metric([row["indexing_status"]], row["n"])
        yield photos
        vectors = GaugeMetricFamily(
            "shoplens_vectors",
            "Vectors per embedding space (photos, or product texts).",
            labels=["encoder", "modality", "version", "status"],
        )
        counts: dict[int, int] = {}
        for model in (ImageEmbedding, ProductTextEmbedding):
            counts.update(model.objects.order_by().values_list("space_id").annotate(n=Count("id")))
        for space in EmbeddingSpace.objects.all():
            labels = [space.encoder, space.modality, space.model_version, space.status]
            vectors.add_metric(labels, counts.get(space.pk, 0))
        yield vectors
        depth = GaugeMetricFamily("shoplens_indexing_queue_depth", "Tasks waiting in each queue.", labels=["queue"])
        for queue, length in queue_depths().items():
            depth.add_metric([queue], length)
        yield depth


def queue_depths() -> dict[str, int]:
    import redis

    prefix = str(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", ""))
    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1)
        depths = {queue: int(client.llen(f"{prefix}{queue}")) for queue in ("embeddings", "default")}
        client.close()
    except Exception:
        logger.warning("Broker unavailable: queue depth not reported", exc_info=True)
        return {}
    return depths


def render_metrics() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    output = generate_latest(registry)
    return output + generate_latest(_catalogue_registry())


def _catalogue_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CatalogueCollector())
    return registry
