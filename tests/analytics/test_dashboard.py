"""The staff dashboard: charts and lists for staff, refused to everybody else."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command

from analytics import services
from tests.analytics.conftest import hits, record
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

URL = "/admin/search-analytics/"


def test_the_dashboard_renders_charts_and_zero_result_queries_for_staff(staff_client):
    product = ProductFactory.create()
    event = record(results=hits(product.pk))
    services.interaction_record(search_id=event.pk, product_id=product.pk, position=1, channel="page")
    record(text="purple unicorn")

    response = staff_client.get(URL, {"days": "30"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<svg class="chart"') == 4 and "Searches per day" in html and "CTR by result position" in html
    assert "purple unicorn" in html and "?q=purple+unicorn" in html
    assert "last 30 days" in html


def test_the_dashboard_shows_thumbnails_of_photo_searches_that_found_nothing(staff_client, settings, png_bytes):
    settings.SHOPLENS_ANALYTICS_KEEP_THUMBNAILS = True
    event = record(kind="image", text="", photos=(png_bytes,))

    html = staff_client.get(URL).content.decode()
    thumbnail = staff_client.get(f"/admin/search-analytics/thumbnails/{event.pk}.jpg")

    assert f"/admin/search-analytics/thumbnails/{event.pk}.jpg" in html
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/jpeg"


def test_the_dashboard_is_refused_to_shoppers_and_non_staff_users(client, django_user_model):
    assert client.get(URL).status_code == 302  # to the admin login
    client.force_login(django_user_model.objects.create_user("shopper", password="pw"))

    response = client.get(URL)

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.get("/admin/search-analytics/thumbnails/00000000-0000-0000-0000-000000000000.jpg").status_code == 302


def test_events_export_as_csv_and_clicks_as_an_eval_labels_file(tmp_path):
    product = ProductFactory.create(sku="BOOT-1")
    event = record(text="Red Boots", results=hits(product.pk))
    services.interaction_record(search_id=event.pk, product_id=product.pk, position=1, channel="page")
    out = io.StringIO()

    call_command("export_search_events", "--days", "7", stdout=out, stderr=io.StringIO())
    call_command("export_click_labels", str(tmp_path / "labels.csv"), stdout=io.StringIO())

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(row["search_id"], row["text"], row["clicks"]) for row in rows] == [(str(event.pk), "Red Boots", "1")]
    labels = list(csv.DictReader((tmp_path / "labels.csv").open()))
    assert labels == [{"query": "red boots", "expected_sku": "BOOT-1", "kind": "text", "clicks": "1"}]


def test_photo_searches_with_kept_thumbnails_become_image_labels(tmp_path, settings, png_bytes):
    settings.SHOPLENS_ANALYTICS_KEEP_THUMBNAILS = True
    product = ProductFactory.create(sku="LAMP-1")
    event = record(kind="image", text="", photos=(png_bytes,), results=hits(product.pk))
    services.interaction_record(search_id=event.pk, product_id=product.pk, position=1, channel="api")

    call_command(
        "export_click_labels", str(tmp_path / "labels.csv"), "--images-dir", str(tmp_path / "q"), stdout=io.StringIO()
    )

    [label] = list(csv.DictReader((tmp_path / "labels.csv").open()))
    assert label["kind"] == "image" and label["expected_sku"] == "LAMP-1"
    assert label["query"] == str(tmp_path / "q" / f"{event.photo_sha256s[0]}.jpg")
    assert (tmp_path / "q" / f"{event.photo_sha256s[0]}.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_recorded_searches_are_listed_and_shown_read_only_in_the_admin(staff_client, django_user_model):
    django_user_model.objects.filter(username="staff").update(is_superuser=True)
    event = record(text="velvet sofa")

    listing = staff_client.get("/admin/analytics/searchevent/")
    detail = staff_client.get(f"/admin/analytics/searchevent/{event.pk}/change/")

    assert listing.status_code == 200 and "velvet sofa" in listing.content.decode()
    assert "/admin/search-analytics/" in listing.content.decode()
    assert detail.status_code == 200 and "not kept" in detail.content.decode()
