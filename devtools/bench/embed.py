"""Indexing throughput: the encoder alone versus the whole pipeline (service -> broker -> worker
-> stored vectors). Runs in a throwaway database ``<NAME>_embed_bench`` on the same server, with its own
media folder and broker key prefix, so a real shop's products, files and queues are never touched.

Raw, pipeline, raw, pipeline, ..., raw: on a shared machine the speed drifts, so each pipeline run
is compared with the mean of the raw timings on either side of it.
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from celery import current_app
from django.conf import settings
from django.core.management.base import CommandError
from PIL import Image

from catalog import services as catalog
from catalog.changes import batched_changes
from catalog.imaging import read_image
from devtools import processes
from devtools.databases import database_beside
from visualsearch.encoders import get_encoder
from visualsearch.models import ImageEmbedding

PHOTOS_PER_PRODUCT = 4
BENCH_SUFFIX = "_embed_bench"  # its own name: other benchmarks may use <NAME>_bench at the same time


@dataclass(frozen=True)
class EmbedBenchmark:
    encoder: str
    model: str
    images: int
    batch_size: int
    repeats: int
    concurrency: int
    in_process: bool
    keep_db: bool
    media: Path


def run(bench: EmbedBenchmark, say: Any) -> dict[str, Any]:
    import torch

    encoder = get_encoder(bench.encoder)
    count, batch = bench.images, bench.batch_size
    # Distinct photos per run: identical bytes would reuse stored vectors instead of being encoded.
    runs = [[photo(run * count + seed) for seed in range(count)] for run in range(bench.repeats)]
    raw_seconds = [time_raw(encoder, runs[0], batch)]
    say(f"raw: {count / raw_seconds[-1]:.1f} images/s")
    pipeline_seconds: list[float] = []
    app = current_app  # the project's Celery app (config.celery), without importing the wiring

    previous_options = app.conf.broker_transport_options
    app.conf.broker_transport_options = {
        **(previous_options or {}),
        "global_keyprefix": f"shoplens-bench-{uuid.uuid4().hex[:8]}:",
    }
    drop_broker_connections(app)  # connections made before carry the shop's key prefix
    try:
        with database_beside(BENCH_SUFFIX, fresh=True, keep=bench.keep_db) as database:
            worker = None
            try:
                if bench.in_process:
                    app.conf.task_always_eager = True
                else:
                    worker = _start_worker(bench, database, app.conf.broker_transport_options["global_keyprefix"])
                _save_products([photo(bench.repeats * count + 1)], "WARM", batch)  # model load in the worker
                stored = _wait_for_vectors(1, timeout=600)
                for index, photos in enumerate(runs):
                    start = time.perf_counter()
                    _save_products(photos, f"BENCH{index}", batch)
                    stored = _wait_for_vectors(stored + count, timeout=max(600, count * 5))
                    pipeline_seconds.append(time.perf_counter() - start)
                    say(f"pipeline: {count / pipeline_seconds[-1]:.1f} images/s")
                    raw_seconds.append(time_raw(encoder, photos, batch))
                    say(f"raw: {count / raw_seconds[-1]:.1f} images/s")
            finally:
                app.conf.task_always_eager = False
                if worker is not None:
                    worker.stop(timeout=30)
                    if worker.log_path is not None:
                        worker.log_path.unlink(missing_ok=True)
    finally:
        # The calling process (a test run, a shell) publishes to the shop's queues again.
        app.conf.broker_transport_options = previous_options
        drop_broker_connections(app)

    raw_rates = [count / seconds for seconds in raw_seconds]
    pipeline_rates = [count / seconds for seconds in pipeline_seconds]
    ratios = [pipeline / ((raw_rates[i] + raw_rates[i + 1]) / 2) for i, pipeline in enumerate(pipeline_rates)]
    threads = worker_threads(bench.concurrency)
    return {
        "encoder": bench.encoder, "model": bench.model, "version": encoder.version, "dimension": encoder.dimension,
        "images": count, "batch_size": batch, "device": str(getattr(encoder, "device", "cpu")),
        "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
        "raw_images_per_s": round(statistics.median(raw_rates), 2),
        "pipeline_images_per_s": round(statistics.median(pipeline_rates), 2),
        "pipeline_over_raw": round(statistics.median(ratios), 3),
        "pipeline": "in-process" if bench.in_process
        else f"worker (celery prefork, concurrency {bench.concurrency}, {threads} torch thread(s) each)",
        "repeats": bench.repeats,
        "raw_images_per_s_runs": [round(rate, 2) for rate in raw_rates],
        "pipeline_images_per_s_runs": [round(rate, 2) for rate in pipeline_rates],
        "pipeline_over_raw_runs": [round(ratio, 3) for ratio in ratios],
        "photos_per_product": PHOTOS_PER_PRODUCT,
    }  # fmt: skip


def photo(seed: int, size: tuple[int, int] = (640, 480)) -> bytes:
    """A distinct smooth colour photo as JPEG bytes (what a shop uploads)."""
    coarse = np.random.default_rng(seed).integers(0, 255, (6, 8, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def time_raw(encoder: Any, photos: list[bytes], batch: int) -> float:
    """Seconds for ``encode_tensor`` over every batch, preprocessing excluded (one warm-up batch first)."""
    pictures = [read_image(item) for item in photos]
    tensors = [encoder.preprocess(pictures[i : i + batch]) for i in range(0, len(pictures), batch)]
    encoder.encode_tensor(tensors[0])
    start = time.perf_counter()
    for tensor in tensors:
        encoder.encode_tensor(tensor)
    return time.perf_counter() - start


def worker_threads(concurrency: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, concurrency))


def drop_broker_connections(app: Any) -> None:
    """Forget Celery's cached broker connections and producers (they keep the transport options,
    the key prefix among them, that were set when they were made); the next publish dials anew.

    The pools live in kombu's process-wide registry, so they are closed *and* removed from it
    (``kombu.pools.reset``): a closed pool left registered would be handed out again."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def _save_products(photos: list[bytes], prefix: str, batch: int) -> None:
    """Products of PHOTOS_PER_PRODUCT photos through catalog.services, announced batch by batch so
    the worker embeds while the next photos are being saved."""
    per_batch = max(batch // PHOTOS_PER_PRODUCT, 1) * PHOTOS_PER_PRODUCT
    for start in range(0, len(photos), per_batch):
        with batched_changes():
            chunk = photos[start : start + per_batch]
            for offset in range(0, len(chunk), PHOTOS_PER_PRODUCT):
                number = start + offset
                catalog.product_create(
                    sku=f"{prefix}-{number:06d}",
                    name=f"Benchmark product {number}",
                    price=Decimal("1.00"),
                    images=[catalog.ImageUpload(file=p) for p in chunk[offset : offset + PHOTOS_PER_PRODUCT]],
                )


def _wait_for_vectors(expected: int, *, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while (stored := ImageEmbedding.objects.count()) < expected:
        if time.monotonic() > deadline:
            raise CommandError(f"Only {stored} of {expected} vectors after {timeout:.0f}s")
        time.sleep(0.05)
    return stored


def _start_worker(bench: EmbedBenchmark, database: dict[str, Any], key_prefix: str) -> processes.ChildProcess:
    """A worker on the benchmark database and queues; its log goes to a temporary file."""
    name = bench.encoder
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local"),
        "DATABASE_URL": processes.database_url(database),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_KEY_PREFIX": key_prefix,
        "DJANGO_MEDIA_ROOT": str(bench.media),
        "DJANGO_TEST_MEDIA_ROOT": str(bench.media),
        "SHOPLENS_ENABLED_ENCODERS": name,
        f"{name.upper()}_MODEL": bench.model,
        f"{name.upper()}_BATCH_SIZE": str(bench.batch_size),
        "SHOPLENS_INDEX_IN_PROCESS": "false",
    }
    env.pop("SHOPLENS_TEST_DB_NAME", None)
    log = Path(tempfile.mkstemp(prefix="shoplens-bench-worker-", suffix=".log")[1])
    command = processes.worker_command(concurrency=bench.concurrency, loglevel="WARNING", name="bench")
    return processes.start(command, env=env, log_path=log)
