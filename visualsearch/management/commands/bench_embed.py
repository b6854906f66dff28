"""Indexing throughput: the encoder alone versus the whole pipeline (service -> broker -> worker
-> stored vectors). Runs in a throwaway database ``<NAME>_embed_bench`` on the same server, with its own
media folder and broker key prefix, so a real shop's products, files and queues are never touched.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.test import override_settings
from PIL import Image

from catalog import services as catalog
from visualsearch.encoders import get_encoder, reset_encoders
from visualsearch.models import ImageEmbedding
from visualsearch.services import indexing_batched

PHOTOS_PER_PRODUCT = 4
BENCH_SUFFIX = "_embed_bench"  # its own name: other benchmarks may use <NAME>_bench at the same time


class Command(BaseCommand):
    help = "Time the encoder alone and the full indexing pipeline; prints one JSON object with --json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--images", type=int, default=256)
        parser.add_argument("--encoder", default="clip")
        parser.add_argument("--model", default="", help="Model name or path (e.g. random-vit-b-32).")
        parser.add_argument("--batch-size", type=int, default=32)
        parser.add_argument(
            "--concurrency", type=int, default=os.cpu_count() or 1,
            help="Worker processes (default: one per core), each with cores // concurrency torch threads.",
        )  # fmt: skip
        parser.add_argument(
            "--repeats", type=int, default=3,
            help="Pipeline runs, each between two raw timings; the figures are medians over the runs.",
        )  # fmt: skip
        parser.add_argument("--in-process", action="store_true", help="Embed in this process, not a worker.")
        parser.add_argument("--json", action="store_true", help="Print only the JSON result.")
        parser.add_argument("--keep-db", action="store_true", help="Keep the benchmark database afterwards.")

    def handle(self, *args: Any, **options: Any) -> None:
        name, count, batch = options["encoder"], options["images"], options["batch_size"]
        if name not in settings.SHOPLENS_ENCODERS:
            raise CommandError(f"Unknown encoder {name!r}")
        if count < 1 or batch < 1 or options["repeats"] < 1:
            raise CommandError("--images, --batch-size and --repeats must be at least 1")
        config = {**settings.SHOPLENS_ENCODERS[name], "BATCH_SIZE": batch}
        if options["model"]:
            config["MODEL"] = options["model"]
        media = Path(tempfile.mkdtemp(prefix="shoplens-bench-media-"))
        overrides = {
            "SHOPLENS_ENABLED_ENCODERS": [name],
            "SHOPLENS_ENCODERS": {**settings.SHOPLENS_ENCODERS, name: config},
            "MEDIA_ROOT": str(media),
        }
        try:
            with override_settings(**overrides):
                reset_encoders()
                result = self._run(name, str(config["MODEL"]), count, batch, media, options)
        finally:
            reset_encoders()
            shutil.rmtree(media, ignore_errors=True)
        self.stdout.write(json.dumps(result, indent=None if options["json"] else 2))

    def _run(self, name: str, model: str, count: int, batch: int, media: Path, options: dict[str, Any]) -> dict:
        """Raw, pipeline, raw, pipeline, ..., raw: on a shared machine the speed drifts, so each
        pipeline run is compared with the mean of the raw timings on either side of it."""
        import torch

        encoder = get_encoder(name)
        repeats = options["repeats"]
        # Distinct photos per run: identical bytes would reuse stored vectors instead of being encoded.
        runs = [[_photo(run * count + seed) for seed in range(count)] for run in range(repeats)]
        raw_seconds = [_time_raw(encoder, runs[0], batch)]
        self._say(f"raw: {count / raw_seconds[-1]:.1f} images/s")

        database = _use_bench_database()
        worker = None
        pipeline_seconds: list[float] = []
        try:
            from config.celery import app

            app.conf.broker_transport_options = {
                **(app.conf.broker_transport_options or {}),
                "global_keyprefix": f"shoplens-bench-{uuid.uuid4().hex[:8]}:",
            }
            if options["in_process"]:
                app.conf.task_always_eager = True
            else:
                worker, worker_log = _start_worker(
                    name, model, batch, media, database, app, concurrency=options["concurrency"]
                )
            # Warm-up (model load in the worker), not timed.
            _save_products([_photo(repeats * count + 1)], "WARM", batch)
            stored = _wait_for_vectors(1, timeout=600)
            for run, photos in enumerate(runs):
                start = time.perf_counter()
                _save_products(photos, f"BENCH{run}", batch)
                stored = _wait_for_vectors(stored + count, timeout=max(600, count * 5))
                pipeline_seconds.append(time.perf_counter() - start)
                self._say(f"pipeline: {count / pipeline_seconds[-1]:.1f} images/s")
                raw_seconds.append(_time_raw(encoder, photos, batch))
                self._say(f"raw: {count / raw_seconds[-1]:.1f} images/s")
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)
                Path(worker_log).unlink(missing_ok=True)
            if options["in_process"]:
                app.conf.task_always_eager = False
            _drop_bench_database(database, keep=options["keep_db"])

        raw_rates = [count / seconds for seconds in raw_seconds]
        pipeline_rates = [count / seconds for seconds in pipeline_seconds]
        ratios = [pipeline / ((raw_rates[run] + raw_rates[run + 1]) / 2) for run, pipeline in enumerate(pipeline_rates)]
        return {
            "encoder": name,
            "model": model,
            "version": encoder.version,
            "dimension": encoder.dimension,
            "images": count,
            "batch_size": batch,
            "device": str(getattr(encoder, "device", "cpu")),
            "torch_threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(),
            "raw_images_per_s": round(statistics.median(raw_rates), 2),
            "pipeline_images_per_s": round(statistics.median(pipeline_rates), 2),
            "pipeline_over_raw": round(statistics.median(ratios), 3),
            "pipeline": "in-process"
            if options["in_process"]
            else f"worker (celery prefork, concurrency {options['concurrency']}, "
            f"{_worker_threads(options['concurrency'])} torch thread(s) each)",
            "repeats": repeats,
            "raw_images_per_s_runs": [round(rate, 2) for rate in raw_rates],
            "pipeline_images_per_s_runs": [round(rate, 2) for rate in pipeline_rates],
            "pipeline_over_raw_runs": [round(ratio, 3) for ratio in ratios],
            "photos_per_product": PHOTOS_PER_PRODUCT,
        }

    def _say(self, message: str) -> None:
        self.stderr.write(message)


def _photo(seed: int, size: tuple[int, int] = (640, 480)) -> bytes:
    """A distinct smooth colour photo as JPEG bytes (what a shop uploads)."""
    coarse = np.random.default_rng(seed).integers(0, 255, (6, 8, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _time_raw(encoder: Any, photos: list[bytes], batch: int) -> float:
    """Seconds for ``encode_tensor`` over every batch, preprocessing excluded (one warm-up batch first)."""
    from catalog.imaging import read_image

    pictures = [read_image(photo) for photo in photos]
    tensors = [encoder.preprocess(pictures[i : i + batch]) for i in range(0, len(pictures), batch)]
    encoder.encode_tensor(tensors[0])
    start = time.perf_counter()
    for tensor in tensors:
        encoder.encode_tensor(tensor)
    return time.perf_counter() - start


def _save_products(photos: list[bytes], prefix: str, batch: int) -> None:
    """Products of PHOTOS_PER_PRODUCT photos through catalog.services, queued batch by batch so
    the worker embeds while the next photos are being saved."""
    per_batch = max(batch // PHOTOS_PER_PRODUCT, 1) * PHOTOS_PER_PRODUCT
    for start in range(0, len(photos), per_batch):
        with indexing_batched(batch_size=batch):
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


def _use_bench_database() -> dict[str, Any]:
    """Create ``<NAME>_embed_bench`` (empty, migrated) and point the default connection at it."""
    import psycopg
    from psycopg import sql

    connection = connections["default"]
    params = dict(connection.settings_dict)
    name = f"{params['NAME']}{BENCH_SUFFIX}"
    connection.close()
    with psycopg.connect(**_server_params(params), dbname="postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.settings_dict["NAME"] = name
    call_command("migrate", verbosity=0, interactive=False)
    return {**params, "NAME": name}


def _drop_bench_database(database: dict[str, Any], *, keep: bool) -> None:
    import psycopg
    from psycopg import sql

    connections["default"].close()
    if not keep:
        with psycopg.connect(**_server_params(database), dbname="postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database["NAME"])))
    connections["default"].settings_dict["NAME"] = database["NAME"].removesuffix(BENCH_SUFFIX)


def _server_params(database: dict[str, Any]) -> dict[str, Any]:
    params = {"user": database.get("USER") or None, "password": database.get("PASSWORD") or None}
    params["host"] = database.get("HOST") or (database.get("OPTIONS") or {}).get("host")
    if database.get("PORT"):
        params["port"] = database["PORT"]
    return {key: value for key, value in params.items() if value}


def _database_url(database: dict[str, Any]) -> str:
    user = quote(str(database.get("USER") or ""), safe="")
    password = f":{quote(str(database['PASSWORD']), safe='')}" if database.get("PASSWORD") else ""
    host = str(database.get("HOST") or (database.get("OPTIONS") or {}).get("host") or "")
    if host.startswith("/"):
        return f"postgres://{user}{password}@/{database['NAME']}?host={quote(host)}"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{database['NAME']}"


def _worker_threads(concurrency: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, concurrency))


def _start_worker(
    name: str, model: str, batch: int, media: Path, database: dict, app: Any, *, concurrency: int
) -> tuple[subprocess.Popen, str]:
    """A worker on the benchmark database and queues; its log goes to a temporary file (kept if it fails)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local"),
        "DATABASE_URL": _database_url(database),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_KEY_PREFIX": app.conf.broker_transport_options["global_keyprefix"],
        "DJANGO_MEDIA_ROOT": str(media),
        "DJANGO_TEST_MEDIA_ROOT": str(media),
        "SHOPLENS_ENCODERS": name,
        f"{name.upper()}_MODEL": model,
        f"{name.upper()}_BATCH_SIZE": str(batch),
        "SHOPLENS_INDEX_IN_PROCESS": "false",
    }
    env.pop("SHOPLENS_TEST_DB_NAME", None)
    log = tempfile.NamedTemporaryFile(prefix="shoplens-bench-worker-", suffix=".log", delete=False)  # noqa: SIM115
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "embeddings,default",
        "--pool=prefork", f"--concurrency={concurrency}", "--loglevel=WARNING", "--without-gossip", "--without-mingle",
        "--without-heartbeat", "-n", f"bench-{uuid.uuid4().hex[:6]}@%h",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    return process, log.name
