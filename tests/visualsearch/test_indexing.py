"""The embedding service and tasks in this process: real encoders (tiny CLIP, EfficientNet-Lite0,
MiniLM), real PostgreSQL/pgvector."""

from __future__ import annotations

import logging
import struct
import zlib
from decimal import Decimal
from unittest import mock

import pytest
from django.core.files.base import ContentFile

from catalog import services as catalog
from catalog.models import IndexingStatus, ProductImage
from config.celery import app
from tests.encoder_fixtures import Shape, image_bytes, make_product_photo
from tests.factories import BrandFactory, CategoryFactory, ProductFactory
from visualsearch import indexing, tasks
from visualsearch.encoders import get_encoder
from visualsearch.indexing import photos as photos_module
from visualsearch.models import EmbeddingSpace, ImageEmbedding, ProductTextEmbedding

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("use_tiny_clip")]


def photo(colour: str = "red", shape: Shape = "circle", seed: int = 0) -> bytes:
    return image_bytes(make_product_photo(shape, colour, size=(96, 96), seed=seed), "PNG")


def product_with_photos(*colours: str, sku: str = "P-1") -> list[ProductImage]:
    product = catalog.product_create(
        sku=sku,
        name=f"Product {sku}",
        price=Decimal("10"),
        images=[catalog.ImageUpload(file=photo(colour, seed=i)) for i, colour in enumerate(colours)],
    )
    return list(product.images.order_by("pk"))


def png_bomb(side: int = 20000) -> bytes:
    """A valid 1-bit PNG of side x side pixels that compresses to ~50 kB."""
    raw = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    data = b"".join(raw.compress(row) for _ in range(side)) + raw.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def stored_bad_photo(content: bytes, *, name: str = "bad.png") -> ProductImage:
    """A photo row whose file was written straight to storage, bypassing the service's checks."""
    image = ProductImage(product=ProductFactory.create(), sha256=f"{len(content):064x}"[-64:])
    image.image.save(name, ContentFile(content), save=False)
    image.save()
    return image


def spaces() -> dict[str, EmbeddingSpace]:
    return {space.encoder: space for space in EmbeddingSpace.objects.filter(modality="image")}


def test_photos_get_a_vector_from_every_image_encoder() -> None:
    images = product_with_photos("red", "blue")

    report = indexing.embed_images(image_ids=[i.pk for i in images])

    assert set(spaces()) == {"clip", "visual"}
    for space in spaces().values():
        assert ImageEmbedding.objects.filter(space=space).count() == 2
    assert report.embedded == 4
    stored = ProductImage.objects.filter(pk__in=[i.pk for i in images])
    assert {i.indexing_status for i in stored} == {IndexingStatus.READY}
    assert all(i.indexed_at and not i.indexing_error for i in stored)


def test_a_batch_is_one_model_call_per_encoder() -> None:
    images = product_with_photos("red", "blue", "green")
    clip, visual = get_encoder("clip"), get_encoder("visual")

    with (
        mock.patch.object(clip, "encode_images", wraps=clip.encode_images) as clip_calls,
        mock.patch.object(visual, "encode_images", wraps=visual.encode_images) as visual_calls,
    ):
        indexing.embed_images(image_ids=[i.pk for i in images])

    assert clip_calls.call_count == visual_calls.call_count == 1
    assert len(clip_calls.call_args.args[0]) == 3


def test_second_run_skips_stored_vectors_without_calling_a_model() -> None:
    images = product_with_photos("red", "blue")
    indexing.embed_images(image_ids=[i.pk for i in images])
    clip = get_encoder("clip")

    with mock.patch.object(clip, "encode_images", wraps=clip.encode_images) as calls:
        report = indexing.embed_images(image_ids=[i.pk for i in images])

    assert calls.call_count == 0
    assert (report.embedded, report.skipped) == (0, 4)


def test_identical_bytes_reuse_the_stored_vector() -> None:
    first = product_with_photos("red", sku="A")[0]
    indexing.embed_images(image_ids=[first.pk])
    second = product_with_photos("red", sku="B")[0]  # same bytes, another product
    clip = get_encoder("clip")

    with mock.patch.object(clip, "encode_images", wraps=clip.encode_images) as calls:
        report = indexing.embed_images(image_ids=[second.pk])

    assert calls.call_count == 0
    assert (report.embedded, report.reused) == (0, 2)
    vectors = ImageEmbedding.objects.filter(space=spaces()["clip"]).values_list("vector", flat=True)
    assert len(vectors) == 2 and list(vectors[0]) == list(vectors[1])
    assert ProductImage.objects.get(pk=second.pk).indexing_status == IndexingStatus.READY


def test_identical_bytes_in_one_batch_are_encoded_once() -> None:
    first = product_with_photos("red", sku="A")[0]
    second = product_with_photos("red", sku="B")[0]
    clip = get_encoder("clip")

    with mock.patch.object(clip, "encode_images", wraps=clip.encode_images) as calls:
        report = indexing.embed_images(image_ids=[first.pk, second.pk])

    assert len(calls.call_args.args[0]) == 1
    assert (report.embedded, report.reused) == (2, 2)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"this is not an image", "not an image"),
        (photo()[:-200], "incomplete or damaged"),
        (b"", "empty"),
        (png_bomb(), "image is too large"),
    ],
    ids=["not-an-image", "truncated", "zero-bytes", "png-bomb-20000x20000"],
)
def test_bad_photo_is_marked_failed_with_its_reason_without_blocking_the_batch(content: bytes, reason: str) -> None:
    good = product_with_photos("red")[0]
    bad = stored_bad_photo(content)

    report = indexing.embed_images(image_ids=[bad.pk, good.pk])

    bad.refresh_from_db()
    assert bad.indexing_status == IndexingStatus.FAILED
    assert reason in bad.indexing_error
    assert ProductImage.objects.get(pk=good.pk).indexing_status == IndexingStatus.READY
    assert report.failed == 1 and report.embedded == 2


def test_photo_whose_file_is_gone_is_marked_failed() -> None:
    image = product_with_photos("red")[0]
    image.image.storage.delete(str(image.image.name))

    indexing.embed_images(image_ids=[image.pk])

    image.refresh_from_db()
    assert image.indexing_status == IndexingStatus.FAILED
    assert "missing from storage" in image.indexing_error


def test_model_error_on_one_photo_does_not_block_the_others() -> None:
    images = product_with_photos("red", "blue", "green")
    visual = get_encoder("visual")
    real = visual.encode_images

    def refuse_blue(pictures):
        if any(p.getpixel((48, 48))[2] > 200 and p.getpixel((48, 48))[0] < 50 for p in pictures):
            raise RuntimeError("model refused this one")
        return real(pictures)

    with mock.patch.object(visual, "encode_images", side_effect=refuse_blue):
        indexing.embed_images(image_ids=[i.pk for i in images])

    statuses = dict(ProductImage.objects.filter(product=images[0].product).values_list("pk", "indexing_status"))
    assert [statuses[i.pk] for i in images] == ["ready", "failed", "ready"]
    assert "model refused this one" in ProductImage.objects.get(pk=images[1].pk).indexing_error


def test_transient_error_before_the_last_retry_stores_the_rest_and_raises() -> None:
    images = product_with_photos("red", "blue")
    real_read = photos_module.read_image

    def flaky(field, **options):
        if field.instance.pk == images[0].pk:
            raise OSError("storage timed out")
        return real_read(field, **options)

    with (
        mock.patch.object(photos_module, "read_image", side_effect=flaky),
        pytest.raises(indexing.TransientIndexingError),
    ):
        indexing.embed_images(image_ids=[i.pk for i in images], final_attempt=False)

    statuses = dict(ProductImage.objects.filter(product=images[0].product).values_list("pk", "indexing_status"))
    assert (statuses[images[0].pk], statuses[images[1].pk]) == ("pending", "ready")


def test_task_marks_photo_failed_with_reason_after_its_last_retry() -> None:
    image = product_with_photos("red")[0]

    with mock.patch.object(photos_module, "read_image", side_effect=OSError("storage timed out")):
        tasks.embed_product_images.apply(args=[[image.pk]], retries=tasks.embed_product_images.max_retries)

    image.refresh_from_db()
    assert image.indexing_status == IndexingStatus.FAILED
    assert "storage timed out" in image.indexing_error


def test_tasks_declare_retries_and_run_on_the_embeddings_queue() -> None:
    for task in (tasks.embed_product_images, tasks.embed_product_texts):
        assert indexing.TransientIndexingError in task.autoretry_for
        assert task.retry_backoff and task.max_retries and task.acks_late
        assert app.amqp.router.route({}, task.name)["queue"].name == "embeddings"


def test_unloadable_encoder_is_skipped_and_named_on_the_photo(settings, caplog) -> None:
    settings.SHOPLENS_ENCODERS = {
        **settings.SHOPLENS_ENCODERS,
        "clip": {**settings.SHOPLENS_ENCODERS["clip"], "MODEL": "/nonexistent/clip-model"},
    }
    image = product_with_photos("red")[0]

    with caplog.at_level(logging.WARNING, logger="visualsearch.indexing"):
        indexing.embed_images(image_ids=[image.pk])

    image.refresh_from_db()
    assert set(spaces()) == {"visual"}
    assert image.indexing_status == IndexingStatus.READY
    assert image.indexing_error.startswith("Not embedded by clip:")
    assert "Encoder 'clip' is unavailable" in caplog.text


def test_product_text_is_name_brand_category_and_description() -> None:
    product = ProductFactory.create(
        name="Trail Runner",
        brand=BrandFactory.create(name="Acme"),
        category=CategoryFactory.create(name="Shoes"),
        description="Grippy.",
    )

    assert product.search_text() == "Trail Runner\nAcme\nshoes\nGrippy."  # the category path


def test_product_text_is_embedded_once_until_it_changes() -> None:
    product = ProductFactory.create(name="Trail Runner")

    first = indexing.embed_product_texts(product_ids=[product.pk])
    again = indexing.embed_product_texts(product_ids=[product.pk])
    catalog.product_update(product=product, name="Road Runner")
    changed = indexing.embed_product_texts(product_ids=[product.pk])

    assert (first.embedded, again.skipped, changed.embedded) == (1, 1, 1)
    assert ProductTextEmbedding.objects.filter(product=product).count() == 1
    assert not EmbeddingSpace.objects.filter(encoder="clip", modality="text").exists()


def test_in_process_mode_indexes_on_commit_without_a_worker(django_capture_on_commit_callbacks) -> None:
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            images = product_with_photos("red")
    finally:
        app.conf.task_always_eager = False

    assert ProductImage.objects.get(pk=images[0].pk).indexing_status == IndexingStatus.READY
    assert ProductTextEmbedding.objects.filter(product_id=images[0].product_id).exists()
