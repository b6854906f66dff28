"""Model version switches: a new space fills beside the active one and replaces it only when complete."""

from __future__ import annotations

import shutil
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from catalog.models import IndexingStatus, ProductImage
from config.celery import app
from tests.factories import product_with_drawn_photos
from visualsearch import indexing, spaces, tasks
from visualsearch.encoders import reset_encoders
from visualsearch.models import EmbeddingSpace, ImageEmbedding, SpaceStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("use_tiny_clip")]


def photos(count: int, sku: str = "S-1") -> list[int]:
    return product_with_drawn_photos(count, sku=sku, shape="square", colour="red")


def switch_clip_version(settings, source: Path, target: Path) -> None:
    """Another copy of the model under another name is, to the indexer, a new model version."""
    shutil.copytree(source, target)
    settings.SHOPLENS_ENCODERS = {
        **settings.SHOPLENS_ENCODERS,
        "clip": {**settings.SHOPLENS_ENCODERS["clip"], "MODEL": str(target)},
    }
    reset_encoders()
    # The new space's CREATE INDEX cannot run while this test's transaction holds deferred FK
    # checks (in production every batch commits first): run them now.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def clip_spaces() -> list[EmbeddingSpace]:
    return list(EmbeddingSpace.objects.filter(encoder="clip", modality="image").order_by("pk"))


def searchable(ids: list[int]) -> int:
    """Photos that the active clip space (what search reads) can find."""
    return ImageEmbedding.objects.filter(
        space__encoder="clip", space__status=SpaceStatus.ACTIVE, image_id__in=ids
    ).count()


def test_first_space_of_an_encoder_is_active_at_once() -> None:
    indexing.embed_images(image_ids=photos(1))

    assert [space.status for space in clip_spaces()] == [SpaceStatus.ACTIVE]


def test_new_model_version_fills_a_building_space_beside_the_active_one(settings, tiny_clip_dir, tmp_path) -> None:
    ids = photos(2)
    indexing.embed_images(image_ids=ids)
    switch_clip_version(settings, tiny_clip_dir, tmp_path / "clip-v2")

    indexing.embed_images(image_ids=ids[:1])

    old, new = clip_spaces()
    assert (old.status, new.status) == (SpaceStatus.ACTIVE, SpaceStatus.BUILDING)
    assert searchable(ids) == 2
    assert spaces.space_coverage(space=new).missing >= 1


def test_version_switch_never_leaves_search_without_vectors(settings, tiny_clip_dir, tmp_path) -> None:
    ids = photos(3)
    indexing.embed_images(image_ids=ids)
    switch_clip_version(settings, tiny_clip_dir, tmp_path / "clip-v2")

    for pk in ids:  # the new version arrives photo by photo; the sweep/reindex promotes when complete
        indexing.embed_images(image_ids=[pk])
        spaces.spaces_promote_complete()
        assert searchable(ids) == 3

    old, new = clip_spaces()
    if spaces.space_coverage(space=new).complete:  # only this test's photos in the database
        assert (old.status, new.status) == (SpaceStatus.RETIRED, SpaceStatus.ACTIVE)


def test_incomplete_building_space_is_not_promoted(settings, tiny_clip_dir, tmp_path) -> None:
    ids = photos(2)
    indexing.embed_images(image_ids=ids)
    switch_clip_version(settings, tiny_clip_dir, tmp_path / "clip-v2")
    indexing.embed_images(image_ids=ids[:1])

    promoted = spaces.spaces_promote_complete()

    assert clip_spaces()[1].pk not in [space.pk for space in promoted]
    assert clip_spaces()[1].status == SpaceStatus.BUILDING


def test_failed_photos_do_not_hold_back_a_new_version(settings, tiny_clip_dir, tmp_path) -> None:
    ids = photos(2)
    indexing.embed_images(image_ids=ids)
    ProductImage.objects.filter(pk=ids[1]).update(indexing_status=IndexingStatus.FAILED)
    switch_clip_version(settings, tiny_clip_dir, tmp_path / "clip-v2")
    indexing.embed_images(image_ids=ids[:1])

    new = clip_spaces()[1]

    assert ids[1] not in spaces.space_missing(space=new).values_list("pk", flat=True)


def test_command_activates_a_space_by_hand_and_prunes_the_retired_one(settings, tiny_clip_dir, tmp_path) -> None:
    ids = photos(2)
    indexing.embed_images(image_ids=ids)
    switch_clip_version(settings, tiny_clip_dir, tmp_path / "clip-v2")
    indexing.embed_images(image_ids=ids[:1])
    old, new = clip_spaces()
    out = StringIO()

    call_command("embedding_spaces", "--activate", str(new.pk), "--prune-retired", stdout=out)

    assert f"Pruned clip/image {old.model_version}" in out.getvalue()
    assert not EmbeddingSpace.objects.filter(pk=old.pk).exists()
    assert EmbeddingSpace.objects.get(pk=new.pk).status == SpaceStatus.ACTIVE
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [old.index_name])
        assert cursor.fetchone() is None


def test_command_lists_spaces_with_coverage() -> None:
    indexing.embed_images(image_ids=photos(1))
    out = StringIO()

    call_command("embedding_spaces", stdout=out)

    assert "clip" in out.getvalue() and "visual" in out.getvalue() and "active" in out.getvalue()


def test_sweep_requeues_photos_stuck_in_pending(django_capture_on_commit_callbacks) -> None:
    ids = photos(1)
    ProductImage.objects.filter(pk__in=ids).update(
        created_at=ProductImage.objects.get(pk=ids[0]).created_at - timedelta(hours=1)
    )
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            report = tasks.sweep_indexing()
    finally:
        app.conf.task_always_eager = False

    assert int(report["stuck_images"]) >= 1  # type: ignore[call-overload]
    assert ProductImage.objects.get(pk=ids[0]).indexing_status == IndexingStatus.READY


def test_sweep_fills_a_building_space(settings, tiny_clip_dir, tmp_path, django_capture_on_commit_callbacks) -> None:
    ids = photos(2)
    indexing.embed_images(image_ids=ids)
    switch_clip_version(settings, tiny_clip_dir, tmp_path / "clip-v2")
    spaces.ensure_current_spaces()
    new = clip_spaces()[1]
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            tasks.sweep_indexing()
    finally:
        app.conf.task_always_eager = False

    assert ImageEmbedding.objects.filter(space=new, image_id__in=ids).count() == 2
