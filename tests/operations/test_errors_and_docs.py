"""The API's error envelope for unexpected errors, its place in the schema, and offline docs."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

from catalog.api.views import ProductViewSet

pytestmark = pytest.mark.django_db


def test_an_unexpected_api_error_answers_the_envelope_and_logs_the_traceback(api_client, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError("internal detail: /srv/secret.py line 3")

    monkeypatch.setattr(ProductViewSet, "list", explode)
    response = api_client.get("/api/v1/products/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {
            "code": "server_error",
            "message": "Something went wrong on our side; it has been logged.",
            "fields": {},
        }
    }
    assert "secret" not in response.content.decode()
    logged = [record for record in caplog.records if record.exc_info]
    assert logged and "internal detail" in str(logged[0].exc_info[1])


def test_the_schema_documents_the_error_envelope_on_every_operation(api_client):
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()
    assert set(schema["components"]["schemas"]["Error"]["properties"]["error"]["required"]) == {
        "code", "message", "fields",
    }  # fmt: skip
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status in ("429", "500", "503"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (method, path, status)
    assert "413" in schema["paths"]["/api/v1/search/image"]["post"]["responses"]
    assert "404" in schema["paths"]["/api/v1/products/{id}/"]["get"]["responses"]


@pytest.mark.parametrize("url", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_the_api_docs_reference_no_external_host(client, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert references, html
    assert [ref for ref in references if re.match(r"^(https?:)?//", ref)] == []
    assert "cdn" not in html.lower()
    for ref in references:
        if ref.startswith("/static/"):  # a file of the project's own static files
            assert finders.find(ref.removeprefix("/static/").split("?")[0]), ref
