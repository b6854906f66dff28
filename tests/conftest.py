"""Shared fixtures. The database is the real PostgreSQL with pgvector and the broker a real
Valkey/Redis: embedded ones under var/test unless DATABASE_URL / REDIS_URL are set."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import BrandFactory, CategoryFactory, ProductFactory

pytest_plugins = ["tests.encoder_fixtures", "tests.worker_fixtures", "tests.search_fixtures", "tests.replica_fixtures"]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path) -> None:
    """Every test writes uploaded files into its own folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def product(db):
    return ProductFactory.create(price=Decimal("19.99"), category=CategoryFactory.create(), brand=BrandFactory.create())
