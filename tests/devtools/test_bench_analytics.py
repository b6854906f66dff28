"""bench_analytics runs end to end: both channels, recording on and off, in its own database."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from analytics.models import SearchEvent
from catalog.models import Product


@pytest.mark.django_db(transaction=True)
def test_bench_analytics_reports_latency_with_recording_on_and_off_and_leaves_the_shop_alone(settings) -> None:
    settings.SHOPLENS_ENABLED_ENCODERS = ["visual", "text"]
    out = StringIO()
    database = connection.settings_dict["NAME"]

    call_command("bench_analytics", "--products", "3", "--queries", "2", "--json", stdout=out, stderr=StringIO())

    report = json.loads(out.getvalue())
    for channel in ("api", "page"):
        figures = report[channel]
        assert figures["searches_per_mode"] == 2 and figures["events_written"] == 2  # only the recorded half
        assert figures["p50_ms_recording_on"] > 0 and figures["p50_ms_recording_off"] > 0
        assert figures["after_response_ms_p50_recording_on"] > figures["after_response_ms_p50_recording_off"]
    assert report["announce_us_p50"] > 0
    assert connection.settings_dict["NAME"] == database
    assert not Product.objects.exists() and not SearchEvent.objects.exists()
