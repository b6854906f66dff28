"""/metrics: Prometheus text for the token holder only, with the search histogram and indexing state."""

from __future__ import annotations

import re

import pytest

from tests.search_fixtures import photo

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def metrics_token(settings) -> str:
    settings.SHOPLENS_METRICS_TOKEN = TOKEN
    settings.SHOPLENS_METRICS_ALLOWED_IPS = []
    return TOKEN


def scrape(client, token: str = TOKEN) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample; labels given must all match."""
    for line in text.splitlines():
        match = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{key}="{value}"' in match.group(1) for key, value in labels.items()):
            return float(match.group(2))
    return 0.0


def test_metrics_are_refused_without_the_token_or_an_allowed_address(client, metrics_token):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403


def test_metrics_answer_an_allowed_address_without_a_token(client, settings):
    settings.SHOPLENS_METRICS_TOKEN = ""
    settings.SHOPLENS_METRICS_ALLOWED_IPS = ["127.0.0.0/8"]
    assert client.get("/metrics").status_code == 200  # the test client's peer is 127.0.0.1


def test_a_search_shows_in_the_search_histogram_per_kind_and_encoders(
    client, api_client, search_catalogue, metrics_token
):
    before = scrape(client)
    assert api_client.get("/api/v1/search/text", {"q": "red star lamp"}).status_code == 200
    after = scrape(client)
    labels = {"kind": "text", "encoders": "clip+text"}
    assert sample(after, "shoplens_search_duration_seconds_count", **labels) == (
        sample(before, "shoplens_search_duration_seconds_count", **labels) + 1
    )
    assert sample(after, "shoplens_search_duration_seconds_bucket", le="+Inf", **labels) >= 1
    assert (
        sample(after, "shoplens_http_request_duration_seconds_count", view="search-api:search-text", status="200") >= 1
    )


def test_photo_queries_count_query_cache_misses_then_hits(client, api_client, search_catalogue, metrics_token):
    from django.core.files.uploadedfile import SimpleUploadedFile

    query = photo("car", "gold", seed=77)
    before = scrape(client)
    for _ in range(2):
        upload = SimpleUploadedFile("q.png", query, content_type="image/png")
        assert api_client.post("/api/v1/search/image", {"images": [upload]}, format="multipart").status_code == 200
    after = scrape(client)
    for result in ("miss", "hit"):
        gained = sample(after, "shoplens_query_vector_cache_total", encoder="visual", result=result) - sample(
            before, "shoplens_query_vector_cache_total", encoder="visual", result=result
        )
        assert gained == 1, result


def test_metrics_report_photos_vectors_and_queue_depth(client, search_catalogue, metrics_token):
    text = scrape(client)
    assert sample(text, "shoplens_photos", status="ready") == 40
    assert sample(text, "shoplens_vectors", encoder="visual", modality="image", status="active") == 40
    assert sample(text, "shoplens_vectors", encoder="text", modality="text", status="active") == 20
    assert re.search(r'^shoplens_indexing_queue_depth\{queue="embeddings"\} \d', text, re.M)
    assert re.search(r'^shoplens_model_load_seconds\{encoder="visual"\} [0-9.]+', text, re.M)
