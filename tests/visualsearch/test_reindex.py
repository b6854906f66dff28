"""``manage.py reindex``: bulk embedding in batches, resumable, with counts."""

from __future__ import annotations

from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command

from catalog.models import IndexingStatus, ProductImage
from tests.factories import product_with_drawn_photos
from visualsearch import indexing
from visualsearch.models import ImageEmbedding, ProductTextEmbedding

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("use_tiny_clip")]


def photos(count: int, sku: str = "R-1") -> list[int]:
    return product_with_drawn_photos(count, sku=sku, shape="star", colour="blue")


def reindex(*args: str) -> str:
    out = StringIO()
    call_command("reindex", "--no-progress", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def vectors(ids: list[int]) -> int:
    return ImageEmbedding.objects.filter(image_id__in=ids).count()


def test_reindex_embeds_photos_and_texts_and_prints_counts() -> None:
    ids = photos(3)

    output = reindex("--batch-size", "2")

    assert vectors(ids) == 6  # clip + visual
    assert set(ProductImage.objects.filter(pk__in=ids).values_list("indexing_status", flat=True)) == {"ready"}
    assert ProductTextEmbedding.objects.filter(product__images__pk=ids[0]).exists()
    assert "Photo vectors: embedded" in output and "skipped" in output and "failed photos" in output


def test_reindex_resumes_after_an_interruption_without_redoing_work() -> None:
    ids = photos(4)
    real = indexing.embed_images
    calls = {"n": 0}

    def interrupted(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(**kwargs)

    with mock.patch.object(indexing, "embed_images", side_effect=interrupted), pytest.raises(SystemExit):
        reindex("--batch-size", "2")
    done_before = vectors(ids)
    output = reindex("--batch-size", "2")

    assert done_before == 4  # the first batch of two photos, by two encoders, was committed
    assert vectors(ids) == 8
    assert "embedded 4" in output and "skipped 4" in output


def test_only_missing_leaves_complete_photos_alone() -> None:
    ids = photos(3)
    indexing.embed_images(image_ids=ids[:2])

    with mock.patch.object(indexing, "embed_images", wraps=indexing.embed_images) as calls:
        reindex("--only-missing", "--no-texts")

    asked = [pk for call in calls.call_args_list for pk in call.kwargs["image_ids"]]
    assert ids[2] in asked and ids[0] not in asked and ids[1] not in asked
    assert vectors(ids) == 6


def test_reindex_one_encoder_fills_only_its_space() -> None:
    ids = photos(2)

    reindex("--encoder", "visual")

    assert set(ImageEmbedding.objects.filter(image_id__in=ids).values_list("space__encoder", flat=True)) == {"visual"}
    assert set(ProductImage.objects.filter(pk__in=ids).values_list("indexing_status", flat=True)) == {
        IndexingStatus.PENDING
    }


def test_reindex_marks_bad_photos_failed_and_counts_them() -> None:
    ids = photos(2)
    gone = ProductImage.objects.get(pk=ids[0]).image
    gone.storage.delete(str(gone.name))

    output = reindex()

    assert "failed photos 1" in output
    assert ProductImage.objects.get(pk=ids[0]).indexing_status == IndexingStatus.FAILED
