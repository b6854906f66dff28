"""The database side of vector search: pgvector is installed and every space gets its HNSW index."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import numpy as np
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from catalog.models import ProductImage
from tests.factories import product_with_drawn_photos
from visualsearch.encoders.base import Encoder
from visualsearch.models import ImageEmbedding, SpaceStatus
from visualsearch.spaces import space_activate, space_for_encoder


def _encoder(version: str, dimension: int = 512) -> Encoder:
    fake = SimpleNamespace(
        name="clip", model_name="clip-test", version=version, dimension=dimension, index_dimension=None
    )
    return cast(Encoder, fake)


@pytest.mark.django_db
def test_vector_extension_is_installed() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        (version,) = cursor.fetchone()
    assert tuple(int(part) for part in version.split(".")[:2]) >= (0, 8)


@pytest.mark.django_db
def test_each_space_gets_a_partial_hnsw_cosine_index() -> None:
    space = space_for_encoder(encoder=_encoder("v1"), modality="image")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [space.index_name])
        (definition,) = cursor.fetchone()
    assert "USING hnsw" in definition
    assert "halfvec_cosine_ops" in definition
    assert "(vector)::halfvec(512)" in definition
    assert f"space_id = {space.pk}" in definition


@pytest.mark.django_db
def test_first_space_is_active_and_a_new_version_builds_beside_it() -> None:
    first = space_for_encoder(encoder=_encoder("v1"), modality="image")
    second = space_for_encoder(encoder=_encoder("v2", dimension=768), modality="image")
    assert first.status == SpaceStatus.ACTIVE
    assert second.status == SpaceStatus.BUILDING

    space_activate(space=second)
    first.refresh_from_db()
    assert (first.status, second.status) == (SpaceStatus.RETIRED, SpaceStatus.ACTIVE)


def _index_definition(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name])
        row = cursor.fetchone()
    return row[0] if row else ""


@pytest.mark.django_db(transaction=True)  # CREATE INDEX CONCURRENTLY runs outside a transaction
def test_half_precision_migration_rebuilds_existing_indexes_in_both_directions() -> None:
    space = space_for_encoder(encoder=_encoder("v1", dimension=8), modality="image")
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("visualsearch", "0003_vectors_inline")])
        assert "vector_cosine_ops" in _index_definition(space.index_name)

        executor = MigrationExecutor(connection)  # the graph state is per executor
        executor.migrate([("visualsearch", "0004_half_precision_indexes")])
        definition = _index_definition(space.index_name)
        assert "halfvec_cosine_ops" in definition
        assert "(vector)::halfvec(8)" in definition
        assert f"space_id = {space.pk}" in definition
        assert not _index_definition(f"{space.index_name}_new")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def _vector_columns() -> set[tuple[str, str, str]]:
    """(table, type, storage) of both vector columns; storage ``m`` is MAIN (inline)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, format_type(a.atttypid, a.atttypmod), a.attstorage FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid WHERE a.attname = 'vector' AND c.relname IN "
            "('visualsearch_imageembedding', 'visualsearch_producttextembedding')"
        )
        return set(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_vectors_move_to_half_precision_inline_and_back_keeping_their_values() -> None:
    space = space_for_encoder(encoder=_encoder("v1", dimension=4), modality="image")
    image_id = product_with_drawn_photos(1, sku="HALF")[0]
    image = ProductImage.objects.get(pk=image_id)
    ImageEmbedding.objects.create(
        space=space, image=image, product_id=image.product_id, content_sha256="0" * 64, vector=[0.5, -0.25, 0.125, 1.0]
    )
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("visualsearch", "0005_lexical_indexes")])
        assert {kind for _, kind, _ in _vector_columns()} == {"vector"}
        executor = MigrationExecutor(connection)
        executor.migrate([("visualsearch", "0006_half_precision_vectors")])
        assert {(kind, storage) for _, kind, storage in _vector_columns()} == {("halfvec", "m")}
        assert "(vector)::halfvec(4)" in _index_definition(space.index_name)
        # Only this column: the model's later columns do not exist at this migration.
        stored = ImageEmbedding.objects.filter(space=space).values_list("vector", flat=True).get()
        assert stored.dtype == np.float32 and stored.tolist() == [0.5, -0.25, 0.125, 1.0]  # exact in float16
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
