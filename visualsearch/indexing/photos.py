"""Photos into vectors: one batch, one decode per distinct photo, one model call per encoder."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from catalog.imaging import ImageRejected, read_image
from catalog.models import IndexingStatus, ProductImage
from visualsearch.encoders import IMAGE, Encoder, EncoderUnavailable, load_encoders
from visualsearch.encoders.base import decode_side
from visualsearch.indexing.report import IndexingReport, TransientIndexingError
from visualsearch.models import EmbeddingSpace, ImageEmbedding
from visualsearch.spaces import space_for_encoder

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

logger = logging.getLogger(__name__)


def embed_images(
    *,
    image_ids: Sequence[int],
    force: bool = False,
    final_attempt: bool = True,
    encoder_names: Iterable[str] | None = None,
) -> IndexingReport:
    """Embed the photos with every enabled image encoder (or ``encoder_names``), one model call
    per encoder, reusing vectors of identical bytes in the same space; bad photos are marked
    failed without holding up the others.

    Raises ``TransientIndexingError`` (after storing everything else) when some photos hit an
    error that may pass, unless ``final_attempt``, in which case they are marked failed.
    """
    report = IndexingReport()
    images = list(
        ProductImage.objects.filter(pk__in=list(image_ids)).only("id", "product_id", "image", "sha256").order_by("pk")
    )
    encoders, report.unavailable = load_encoders(IMAGE, names=encoder_names)
    if not images:
        return report

    spaces: dict[str, EmbeddingSpace] = {}
    todo: dict[str, list[ProductImage]] = {}
    donors: dict[str, dict[str, np.ndarray]] = {}
    for encoder in list(encoders):
        try:
            space = space_for_encoder(encoder=encoder, modality=IMAGE)
        except EncoderUnavailable as exc:
            report.unavailable[encoder.name] = str(exc)
            encoders.remove(encoder)
            continue
        spaces[encoder.name] = space
        done = set() if force else _embedded_image_ids(space, images)
        todo[encoder.name] = [image for image in images if image.pk not in done]
        report.skipped += len(images) - len(todo[encoder.name])
        shas = {image.sha256 for image in todo[encoder.name] if image.sha256}
        donors[encoder.name] = (
            {}
            if force or not shas
            else dict(
                ImageEmbedding.objects.filter(space=space, content_sha256__in=shas)
                .exclude(image_id__in=[image.pk for image in todo[encoder.name]])
                .values_list("content_sha256", "vector")
            )
        )

    # Decode each distinct photo once, shared by every encoder that needs it.
    needed = {_key(image): image for name, items in todo.items() for image in items if _key(image) not in donors[name]}
    pictures, rejected, transient = _decode(needed.values(), min_side=decode_side(encoders))

    rows: list[ImageEmbedding] = []
    for encoder in list(encoders):
        items = [image for image in todo[encoder.name] if _key(image) not in rejected and _key(image) not in transient]
        to_encode = list(dict.fromkeys(_key(image) for image in items if _key(image) not in donors[encoder.name]))
        try:
            vectors, model_errors = _encode_images(encoder, [pictures[sha] for sha in to_encode])
        except EncoderUnavailable as exc:
            report.unavailable[encoder.name] = str(exc)
            logger.warning("Encoder %r is unavailable, indexing continues without it: %s", encoder.name, exc)
            encoders.remove(encoder)
            continue
        computed: dict[str, np.ndarray] = {}
        for sha, vector, error in zip(to_encode, vectors, model_errors, strict=True):
            if error or vector is None:
                transient.setdefault(sha, f"The {encoder.name} model could not embed this photo: {error}")
            else:
                computed[sha] = vector
        first_use: set[str] = set()
        for image in items:
            vector = donors[encoder.name].get(_key(image))
            if vector is None and _key(image) in computed:
                vector = computed[_key(image)]
                if _key(image) not in first_use:
                    first_use.add(_key(image))
                    report.embedded += 1
                else:
                    report.reused += 1
            elif vector is not None:
                report.reused += 1
            if vector is not None:
                rows.append(
                    ImageEmbedding(
                        space=spaces[encoder.name],
                        image_id=image.pk,
                        product_id=image.product_id,
                        content_sha256=image.sha256,
                        vector=vector,
                    )
                )

    failed = {image.pk: rejected[_key(image)] for image in images if _key(image) in rejected}
    retry = {image.pk: transient[_key(image)] for image in images if _key(image) in transient}
    if final_attempt:
        failed.update(retry)
        retry = {}
    with transaction.atomic():
        ImageEmbedding.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["space", "image"],
            update_fields=["vector", "content_sha256"],
        )
        _record_status(images, encoders, spaces, report.unavailable, failed, retry, full=encoder_names is None)
    report.failed = len(failed)
    logger.info(
        "Embedded photos %s: %d computed, %d reused, %d skipped, %d failed, %d to retry",
        _id_range(images), report.embedded, report.reused, report.skipped, report.failed, len(retry),
    )  # fmt: skip
    if retry:
        raise TransientIndexingError("; ".join(f"photo {pk}: {reason}" for pk, reason in sorted(retry.items())))
    return report


def _key(image: ProductImage) -> str:
    """Identical bytes share one decode and one model input; a row without a hash stands alone."""
    return image.sha256 or f"#{image.pk}"


def _embedded_image_ids(space: EmbeddingSpace, images: Sequence[ProductImage]) -> set[int]:
    """Photos that already have a vector of their current bytes in ``space``."""
    current = {(image.pk, image.sha256) for image in images}
    rows = ImageEmbedding.objects.filter(space=space, image_id__in=[i.pk for i in images])
    return {pk for pk, sha in rows.values_list("image_id", "content_sha256") if (pk, sha) in current}


def _decode(
    images: Iterable[ProductImage], *, min_side: int | None = None
) -> tuple[dict[str, Image.Image], dict[str, str], dict[str, str]]:
    """Read every photo separately: pictures by SHA-256, permanent refusals, and transient errors."""
    pictures: dict[str, Image.Image] = {}
    rejected: dict[str, str] = {}
    transient: dict[str, str] = {}
    for image in images:
        try:
            pictures[_key(image)] = read_image(image.image, min_side=min_side)
        except ImageRejected as exc:
            rejected[_key(image)] = exc.message
        except FileNotFoundError:
            rejected[_key(image)] = "The photo's file is missing from storage; please upload it again."
        except OSError as exc:
            transient[_key(image)] = f"The photo could not be read from storage: {exc}"
        finally:
            image.image.close()
    return pictures, rejected, transient


def _encode_images(encoder: Encoder, pictures: list[Image.Image]) -> tuple[list[np.ndarray | None], list[str]]:
    """One model call for the batch; if it fails, photo by photo so one bad photo cannot block the rest."""
    if not pictures:
        return [], []
    try:
        return list(encoder.encode_images(pictures)), [""] * len(pictures)
    except EncoderUnavailable:
        raise
    except Exception:  # the model failed on the batch: find out which photos it cannot take
        logger.exception("Encoder %r failed on a batch of %d photos; retrying one by one", encoder.name, len(pictures))
    vectors: list[np.ndarray | None] = []
    errors: list[str] = []
    for picture in pictures:
        try:
            vectors.append(encoder.encode_images([picture])[0])
            errors.append("")
        except EncoderUnavailable:
            raise
        except Exception as exc:
            vectors.append(None)
            errors.append(f"{type(exc).__name__}: {exc}")
    return vectors, errors


def _record_status(
    images: Sequence[ProductImage],
    encoders: Sequence[Encoder],
    spaces: dict[str, EmbeddingSpace],
    unavailable: dict[str, str],
    failed: dict[int, str],
    retry: dict[int, str],
    *,
    full: bool,
) -> None:
    """Write each photo's status in a few UPDATEs; see the module docstring for what they mean."""
    by_reason: dict[str, list[int]] = defaultdict(list)
    for pk, reason in failed.items():
        by_reason[reason].append(pk)
    for reason, pks in by_reason.items():
        ProductImage.objects.filter(pk__in=pks).update(
            indexing_status=IndexingStatus.FAILED, indexing_error=reason[:2000], indexed_at=timezone.now()
        )
    if not full:
        return  # a run for some encoders only fills their spaces; statuses follow full runs
    rest = [image for image in images if image.pk not in failed and image.pk not in retry]
    note = "; ".join(f"Not embedded by {name}: {reason}" for name, reason in sorted(unavailable.items()))
    if not encoders:
        ProductImage.objects.filter(pk__in=[i.pk for i in rest]).update(
            indexing_status=IndexingStatus.PENDING, indexing_error=f"No image encoder could be loaded. {note}"[:2000]
        )
        return
    ready = {image.pk for image in rest}
    for encoder in encoders:
        ready &= _embedded_image_ids(spaces[encoder.name], rest)
    ProductImage.objects.filter(pk__in=ready).update(
        indexing_status=IndexingStatus.READY, indexing_error=note[:2000], indexed_at=timezone.now()
    )


def _id_range(images: Sequence[ProductImage]) -> str:
    return f"{images[0].pk}..{images[-1].pk} ({len(images)})" if images else "(none)"
