"""Fitting the visual encoder's PCA-whitening, or its rotation, on the shop's own photos.

The photos are encoded without any whitening (the encoder as configured, ``WHITENING`` left
out), so a whitening is always fitted on what it will be applied to. The result is a file; the
encoder reads it from ``VISUAL_WHITENING``, which gives it a new version and so a new embedding
space, filled beside the active one and promoted when it covers the catalogue.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.utils.module_loading import import_string
from PIL import Image

from catalog.imaging import ImageRejected, read_image
from catalog.models import ProductImage
from visualsearch.encoders import encoder_config
from visualsearch.encoders.visual import whitened_version
from visualsearch.encoders.whitening import WhiteningError, energy_share, fit_rotation, fit_whitening
from visualsearch.evaluation import in_split

ENCODER = "visual"


@dataclass(frozen=True)
class WhiteningFit:
    path: Path
    photos: int  # distinct photos fitted on
    skipped: int  # photos that could not be read
    components: int
    dimension: int  # of the whitened vectors the encoder will store
    version: str  # the encoder version once VISUAL_WHITENING points at ``path``
    index_dimensions: int = 0  # a rotation's: leading components the HNSW index covers
    index_energy: float | None = None  # their share of the fitted photos' squared norm


def fit_visual_whitening(
    *, output: Path, components: int = 256, shrinkage: float = 1.0, split: str = "all", max_photos: int = 20000,
    rotation: bool = False, index_dimensions: int = 0,
) -> WhiteningFit:  # fmt: skip
    """Encode up to ``max_photos`` distinct photos of the products in ``split``, fit, write
    ``output``: a whitening of ``components``, or with ``rotation`` a rotation of every CNN
    component whose leading ``index_dimensions`` the HNSW index covers (``components`` and
    ``shrinkage`` unused)."""
    config = encoder_config(ENCODER)
    config = dataclasses.replace(config, options=tuple(item for item in config.options if item[0] != "WHITENING"))
    encoder = import_string(config.backend)(config)
    images = ProductImage.objects.select_related("product").order_by("product_id", "position", "id")
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    skipped = 0
    batch: list[Image.Image] = []

    def flush() -> None:
        if batch:
            cnn, _ = encoder.encode_parts(encoder.preprocess(batch))
            rows.append(cnn)
            batch.clear()

    for image in images.iterator(chunk_size=500):
        if len(seen) >= max_photos:
            break
        if image.sha256 in seen or not in_split(image.product.sku, split):
            continue
        try:
            batch.append(read_image(image.image, min_side=encoder.input_side))
        except (ImageRejected, OSError):
            skipped += 1
            continue
        finally:
            image.image.close()
        seen.add(image.sha256)
        if len(batch) >= encoder.batch_size:
            flush()
    flush()
    if not rows:
        raise WhiteningError(f"No readable photo of the products in split {split!r} to fit on.")
    fitted = np.concatenate(rows)
    if rotation:
        whitening = fit_rotation(fitted, source_version=encoder.base_version, index_dimensions=index_dimensions)
    else:
        whitening = fit_whitening(
            fitted, components=components, shrinkage=shrinkage, source_version=encoder.base_version
        )
    content = whitening.to_bytes()
    output = output.expanduser().resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    partial.write_bytes(content)
    partial.replace(output)  # a running encoder never reads half a file
    content_hash = hashlib.sha256(content).hexdigest()[:12]
    return WhiteningFit(
        path=output,
        photos=len(seen),
        skipped=skipped,
        components=whitening.components,
        dimension=encoder.dimension - int(whitening.mean.shape[0]) + whitening.components,
        version=whitened_version(encoder.base_version, whitening.components, content_hash),
        index_dimensions=whitening.index_dimensions,
        index_energy=energy_share(fitted, whitening, index_dimensions) if whitening.index_dimensions else None,
    )
