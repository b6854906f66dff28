"""``manage.py bench_embed``: indexing throughput, the encoder alone versus the whole pipeline
(see ``devtools.bench.embed``)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import override_settings

from devtools.bench.embed import EmbedBenchmark, run
from devtools.random_clip import resolve_model_name
from visualsearch.encoders import reset_encoders


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
            config["MODEL"] = resolve_model_name(options["model"])
        media = Path(tempfile.mkdtemp(prefix="shoplens-bench-media-"))
        overrides = {
            "SHOPLENS_ENABLED_ENCODERS": [name],
            "SHOPLENS_ENCODERS": {**settings.SHOPLENS_ENCODERS, name: config},
            "MEDIA_ROOT": str(media),
        }
        bench = EmbedBenchmark(
            encoder=name, model=str(config["MODEL"]), images=count, batch_size=batch, repeats=options["repeats"],
            concurrency=options["concurrency"], in_process=options["in_process"], keep_db=options["keep_db"],
            media=media,
        )  # fmt: skip
        try:
            with override_settings(**overrides):
                reset_encoders()
                result = run(bench, self.stderr.write)
        finally:
            reset_encoders()
            shutil.rmtree(media, ignore_errors=True)
        self.stdout.write(json.dumps(result, indent=None if options["json"] else 2))
