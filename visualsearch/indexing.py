"""Embedding service: photos and product texts into vectors, one batch (and one model call per
encoder) at a time. Called by the Celery tasks, the ``reindex`` command and the benchmark.

``ProductImage.indexing_status`` reads:

- ``ready``: every enabled image encoder that could be loaded holds a vector for the photo in
  its current space. Encoders that could not be loaded (e.g. CLIP offline) are named in
  ``indexing_error`` ("Not embedded by: ..."), so a ready photo with a note is searchable by the
  other encoders and is picked up by ``reindex --only-missing`` once the model is available.
- ``failed``: the photo itself cannot be embedded (not an image, damaged, too many pixels, file
  missing) or a transient error outlived the task's retries; ``indexing_error`` says why.
- ``pending``: not processed yet, or no image encoder could be loaded at all.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from catalog.imaging import ImageRejected, read_image
from catalog.models import IndexingStatus, Product, ProductImage
from visualsearch.encoders.base import IMAGE, TEXT, Encoder, EncoderUnavailable, decode_side
from visualsearch.models import EmbeddingSpace, ImageEmbedding, ProductTextEmbedding
from visualsearch.services import space_ensure_index, space_for_encoder

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

logger = logging.getLogger(__name__)


class TransientIndexingError(RuntimeError):
    """Some photos could not be read or encoded for a reason that may pass (storage, model);
    the rest of the batch is stored, and a retry redoes only what is missing."""


@dataclass
class IndexingReport:
    """What one call did, counted in photos (or products) per encoder."""

    embedded: int = 0  # vectors computed by a model
    reused: int = 0  # vectors copied from identical bytes already embedded
    skipped: int = 0  # vector already there
    failed: int = 0  # photos marked failed
    unavailable: dict[str, str] = field(default_factory=dict)  # encoder -> why it could not load

    def add(self, other: IndexingReport) -> None:
        self.embedded += other.embedded
        self.reused += other.reused
        self.skipped += other.skipped
        self.failed += other.failed
        self.unavailable.update(other.unavailable)


def load_encoders(modality: str, *, names: Iterable[str] | None = None) -> tuple[list[Encoder], dict[str, str]]:
    """The enabled encoders for ``modality`` that load here, and why each of the others does not.

    Product texts go only to text-only encoders: a joint image-text model (CLIP) embeds the
    query text at search time against image vectors instead.
    """
    from visualsearch.encoders import get_encoder

    wanted = list(names) if names is not None else list(settings.SHOPLENS_ENABLED_ENCODERS)
    encoders: list[Encoder] = []
    unavailable: dict[str, str] = {}
    for name in wanted:
        backend = settings.SHOPLENS_ENCODERS.get(name, {}).get("BACKEND")
        try:
            modalities = import_string(str(backend)).modalities if backend else frozenset()
        except ImportError:
            modalities = frozenset({IMAGE, TEXT})  # let get_encoder report the real problem
        if not _wants(modality, modalities):
            continue
        try:
            encoder = get_encoder(name)
        except EncoderUnavailable as exc:
            unavailable[name] = str(exc)
            logger.warning("Encoder %r is unavailable, indexing continues without it: %s", name, exc)
            continue
        if _wants(modality, encoder.modalities):
            encoders.append(encoder)
    return encoders, unavailable


def current_space(*, encoder: Encoder, modality: str) -> EmbeddingSpace:
    """``space_for_encoder`` without its ``CREATE INDEX IF NOT EXISTS`` on every batch: that
    statement locks the vector table against other workers' inserts while it checks."""
    space = EmbeddingSpace.objects.filter(
        encoder=encoder.name, model_version=encoder.version, modality=modality
    ).first()
    if space is None:
        return space_for_encoder(encoder=encoder, modality=modality)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [space.index_name])
        if cursor.fetchone() is None:
            space_ensure_index(space=space)
    return space


def _wants(modality: str, modalities: frozenset[str]) -> bool:
    return modality in modalities and (modality == IMAGE or IMAGE not in modalities)


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
            space = current_space(encoder=encoder, modality=IMAGE)
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


def product_text(product: Product) -> str:
    """What the text encoder reads for a product: name, brand, category path and description."""
    brand = product.brand.name if product.brand else ""
    parts = [product.name, brand, str(product.category or ""), product.description]
    return "\n".join(part.strip() for part in parts if part and part.strip())


def embed_product_texts(
    *, product_ids: Sequence[int], force: bool = False, encoder_names: Iterable[str] | None = None
) -> IndexingReport:
    """Embed the products' texts with every enabled text-only encoder; unchanged texts are skipped."""
    report = IndexingReport()
    encoders, report.unavailable = load_encoders(TEXT, names=encoder_names)
    products = list(Product.objects.filter(pk__in=list(product_ids)).select_related("brand", "category"))
    if not products:
        return report
    texts = {product.pk: product_text(product) for product in products}
    digests = {pk: hashlib.sha256(text.encode()).hexdigest() for pk, text in texts.items()}
    for encoder in encoders:
        try:
            space = current_space(encoder=encoder, modality=TEXT)
            current = dict(
                ProductTextEmbedding.objects.filter(space=space, product_id__in=list(texts)).values_list(
                    "product_id", "text_sha256"
                )
            )
            todo = [pk for pk in texts if force or current.get(pk) != digests[pk]]
            report.skipped += len(texts) - len(todo)
            vectors: np.ndarray | list[np.ndarray] = encoder.encode_texts([texts[pk] for pk in todo]) if todo else []
        except EncoderUnavailable as exc:
            report.unavailable[encoder.name] = str(exc)
            logger.warning("Encoder %r is unavailable, indexing continues without it: %s", encoder.name, exc)
            continue
        ProductTextEmbedding.objects.bulk_create(
            [
                ProductTextEmbedding(space=space, product_id=pk, text_sha256=digests[pk], vector=vector)
                for pk, vector in zip(todo, vectors, strict=True)
            ],
            batch_size=500,
            update_conflicts=True,
            unique_fields=["space", "product"],
            update_fields=["vector", "text_sha256"],
        )
        report.embedded += len(todo)
    return report


def ensure_current_spaces() -> list[EmbeddingSpace]:
    """Open the space of every enabled encoder's current model version (``building`` beside the
    active one after a version change), so the sweep can start filling it."""
    spaces = []
    for modality in (IMAGE, TEXT):
        encoders, _ = load_encoders(modality)
        for encoder in encoders:
            spaces.append(current_space(encoder=encoder, modality=modality))
    return spaces
