"""Property-based check of the whole REST API against its own OpenAPI schema (schemathesis):
for every operation, as an anonymous client and as staff, with valid and with invalid input,
no response is a 5xx and every response (4xx error bodies included) matches the schema.

Examples are bounded per operation so the module runs in well under a minute."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from tests.factories import BrandFactory, CategoryFactory, ProductFactory

EXAMPLES_PER_OPERATION = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def wsgi_app(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The real WSGI application, inside the test's transaction (as Django's test client does it,
    connections are not closed at the end of each request), with throttling out of the way."""
    for scope in ("anon", "user"):
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, "100000/min")
    settings.SHOPLENS_SEARCH_THROTTLE_RATE = "100000/min"
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def catalogue(search_catalogue: Any, db: Any) -> None:
    """The indexed search catalogue (so searches answer, not 503), plus products with nulls."""
    ProductFactory.create(price=Decimal("10"), category=CategoryFactory.create(), brand=BrandFactory.create())
    ProductFactory.create(price=Decimal("5"), category=None, brand=None)


def _staff_headers() -> dict[str, str]:
    user = User.objects.create_user("staff-props", password="x", is_staff=True)
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


def _check_operations(wsgi_app: Any, headers: dict[str, str]) -> Counter[int]:
    """Runs every operation in both modes; returns how often each status came back."""
    statuses: Counter[int] = Counter()
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 10
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def call(case: Any) -> None:
                response = case.call_and_validate(headers={**(case.headers or {}), **headers}, checks=CHECKS)
                statuses[response.status_code] += 1

            try:
                call()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.label  # nothing to get wrong: no parameters
    return statuses


@pytest.mark.django_db
def test_no_operation_answers_5xx_or_leaves_its_schema_for_anonymous_clients(wsgi_app, catalogue) -> None:
    statuses = _check_operations(wsgi_app, {})
    assert statuses[200] and statuses[400] and statuses[401]  # reads answered, bad input and writes refused
    assert not statuses[429]


@pytest.mark.django_db
def test_no_operation_answers_5xx_or_leaves_its_schema_for_staff(wsgi_app, catalogue) -> None:
    statuses = _check_operations(wsgi_app, _staff_headers())
    assert statuses[200] and statuses[400]  # answered and refused, never for want of rights:
    assert not statuses[401] and not statuses[403]
    assert not statuses[429]
