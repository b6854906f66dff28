"""Recording searches: the receiver keeps events and writes them once the response is out."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from analytics import recording, services
from analytics.models import SearchEvent
from tests.analytics.conftest import finish_response, hits, performed
from visualsearch.search.events import search_performed

pytestmark = pytest.mark.django_db


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_an_announced_search_waits_for_the_response_then_is_written_with_its_fields():
    photo = _photo()
    event = performed(
        kind="image_text",
        channel="api",
        photos=(photo,),
        criteria={"category_id": 7, "price_max": "80"},
        results=hits(11, 12),
        session_key="abc123session",
    )

    search_performed.send(sender=__name__, event=event)
    assert not SearchEvent.objects.exists() and recording.pending() == 1
    finish_response()

    row = SearchEvent.objects.get()
    assert row.search_id == event.search_id and row.kind == "image_text" and row.channel == "api"
    assert row.text == "red boots" and row.limit == 24 and row.criteria == {"category_id": 7, "price_max": "80"}
    assert row.photo_sha256s == [hashlib.sha256(photo).hexdigest()]
    assert row.results == [[11, 0.89, 79], [12, 0.88, 78]]
    assert (row.result_count, row.top_score, row.top_match_percent, row.category_id) == (2, 0.89, 79, 7)
    assert (row.encode_ms, row.search_ms, row.load_ms, row.total_ms) == (5.0, 10.0, 5.0, 20.0)
    assert row.encoders == ["text"]
    assert row.session_hash and row.session_hash != "abc123session" and len(row.session_hash) == 64
    assert row.thumbnail is None  # thumbnails are off by default


def test_no_ip_address_or_raw_session_key_is_stored():
    search_performed.send(sender=__name__, event=performed(session_key="secret-session-key"))
    finish_response()

    columns = {field.name for field in SearchEvent._meta.fields}
    assert not {"ip", "ip_address", "remote_addr", "user", "user_agent"} & columns
    stored = " ".join(str(value) for value in SearchEvent.objects.values().get().values())
    assert "secret-session-key" not in stored and "127.0.0.1" not in stored


def test_a_thumbnail_is_kept_only_when_the_setting_allows(settings):
    settings.SHOPLENS_ANALYTICS_KEEP_THUMBNAILS = True
    search_performed.send(sender=__name__, event=performed(kind="image", text="", photos=(_photo(),)))
    finish_response()

    thumbnail = Image.open(io.BytesIO(bytes(SearchEvent.objects.get().thumbnail or b"")))
    assert thumbnail.format == "JPEG" and max(thumbnail.size) <= services.THUMBNAIL_SIDE


def test_nothing_is_recorded_when_analytics_is_off(settings):
    settings.SHOPLENS_ANALYTICS_ENABLED = False
    search_performed.send(sender=__name__, event=performed())
    finish_response()

    assert not SearchEvent.objects.exists()


def test_a_search_id_written_twice_is_stored_once():
    event = performed()
    services.search_events_record(rows=[services.event_row(event)])
    services.search_events_record(rows=[services.event_row(event)])

    assert SearchEvent.objects.count() == 1


def test_a_failing_write_is_logged_and_the_request_goes_on(monkeypatch, caplog):
    def broken(*, rows):
        raise RuntimeError("database gone")

    monkeypatch.setattr(services, "search_events_record", broken)
    search_performed.send(sender=__name__, event=performed())
    finish_response()

    assert "Could not record 1 search events" in caplog.text and recording.pending() == 0
