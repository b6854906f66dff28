"""bench_embed runs end to end and prints the figures the README quotes."""

from __future__ import annotations

import json
import statistics
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from catalog.models import Product


@pytest.mark.django_db(transaction=True)
def test_bench_embed_prints_one_json_object_and_leaves_the_shop_alone(tiny_clip_dir: Path) -> None:
    out = StringIO()
    database = connection.settings_dict["NAME"]

    call_command(
        "bench_embed", "--images", "8", "--batch-size", "4", "--repeats", "2", "--in-process",
        "--encoder", "clip", "--model", str(tiny_clip_dir), "--json", stdout=out, stderr=StringIO(),
    )  # fmt: skip

    report = json.loads(out.getvalue())
    assert report["images"] == 8 and report["repeats"] == 2
    assert len(report["raw_images_per_s_runs"]) == 3 and len(report["pipeline_over_raw_runs"]) == 2
    assert report["raw_images_per_s"] > 0 and report["pipeline_images_per_s"] > 0
    assert report["pipeline_over_raw"] == pytest.approx(statistics.median(report["pipeline_over_raw_runs"]), abs=2e-3)
    assert report["dimension"] == 512
    # The benchmark's products went to its own database, which is gone again.
    assert connection.settings_dict["NAME"] == database
    assert not Product.objects.exists()
