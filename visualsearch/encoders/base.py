"""The contract every encoder meets, so indexing and search never care which model is behind it."""

from __future__ import annotations

import hashlib
import json
from abc import ABC
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Final

import numpy as np
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    import torch
    from PIL import Image
    from sentence_transformers import SentenceTransformer

IMAGE: Final = "image"
TEXT: Final = "text"


class EncoderUnavailable(RuntimeError):
    """The model cannot be loaded here; the message says what to do about it."""


class EncoderCapabilityError(RuntimeError):
    """The encoder was asked for a modality it does not embed (e.g. text from an image-only CNN)."""


@dataclass(frozen=True)
class EncoderConfig:
    """One entry of ``settings.SHOPLENS_ENCODERS``, parsed once and hashable for the registry cache."""

    name: str
    backend: str
    model_name: str
    device: str = "auto"
    batch_size: int = 32
    options: tuple[tuple[str, object], ...] = field(default=())

    @classmethod
    def from_settings(cls, name: str, raw: Mapping[str, object]) -> EncoderConfig:
        known = {"BACKEND", "MODEL", "DEVICE", "BATCH_SIZE"}
        extra = {key: value for key, value in raw.items() if key not in known}
        return cls(
            name=name,
            backend=str(raw["BACKEND"]),
            model_name=str(raw["MODEL"]),
            device=str(raw.get("DEVICE", "auto")),
            batch_size=int(raw.get("BATCH_SIZE", 32)),  # type: ignore[call-overload]
            options=tuple(sorted((key, _freeze(value)) for key, value in extra.items())),
        )

    def option(self, key: str, default: object = None) -> object:
        """An encoder-specific setting such as ``PRECISION``."""
        return dict(self.options).get(key, default)


def _freeze(value: object) -> object:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | set):
        return tuple(_freeze(v) for v in value)
    return value


class Encoder(ABC):
    """Turns images and/or texts into L2-normalised float32 rows of width ``dimension``.

    ``preprocess`` and ``encode_tensor`` are separate so a benchmark can time the model alone.
    """

    name: ClassVar[str]
    modalities: ClassVar[frozenset[str]]
    model_name: str
    version: str
    dimension: int
    # Image encoders: the largest side the model looks at, so photos can be decoded no larger
    # (None: decode at full size).
    input_side: int | None = None
    # When the leading components carry most of every vector (a fitted rotation): the width
    # of its space's HNSW index (visualsearch.models.EmbeddingSpace.index_dimension).
    index_dimension: int | None = None

    def __init__(self, config: EncoderConfig) -> None:
        if config.batch_size < 1:
            raise ImproperlyConfigured(f"BATCH_SIZE of encoder {config.name!r} must be at least 1")
        self.config = config
        self.model_name = config.model_name
        self.batch_size = config.batch_size

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.version} dim={self.dimension}>"

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Embed ``images`` batch by batch; rows follow the input order."""
        self._require(IMAGE)
        batches = [
            self.encode_tensor(self.preprocess(images[start : start + self.batch_size]))
            for start in range(0, len(images), self.batch_size)
        ]
        return self._stack(batches)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` batch by batch; rows follow the input order."""
        self._require(TEXT)
        batches = [
            self._encode_text_batch(list(texts[start : start + self.batch_size]))
            for start in range(0, len(texts), self.batch_size)
        ]
        return self._stack(batches)

    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Images to the model's input tensor (CPU); overridden by image encoders."""
        raise EncoderCapabilityError(f"The {self.name!r} encoder does not embed images.")

    def encode_tensor(self, batch: torch.Tensor) -> np.ndarray:
        """A preprocessed batch to unit rows; overridden by image encoders."""
        raise EncoderCapabilityError(f"The {self.name!r} encoder does not embed images.")

    def _encode_text_batch(self, texts: list[str]) -> np.ndarray:
        raise EncoderCapabilityError(f"The {self.name!r} encoder does not embed text.")

    def _require(self, modality: str) -> None:
        if modality not in self.modalities:
            raise EncoderCapabilityError(
                f"The {self.name!r} encoder embeds {', '.join(sorted(self.modalities))}, not {modality}."
            )

    def _stack(self, batches: list[np.ndarray]) -> np.ndarray:
        if not batches:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(batches), dtype=np.float32)


def l2_normalise(rows: np.ndarray) -> np.ndarray:
    """Unit-length float32 rows; an all-zero row stays zero instead of becoming NaN."""
    rows = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, np.float32(1e-12))


def resolve_device(device: str) -> str:
    """``auto`` means the GPU when there is one."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def weights_fingerprint(tensors: Iterable[tuple[str, torch.Tensor]], *extra: object) -> str:
    """A short hash of named weights plus any config, for ``Encoder.version``."""
    import torch

    digest = hashlib.sha256()
    for item in extra:
        digest.update(json.dumps(item, sort_keys=True, default=str).encode())
    for name, tensor in sorted(tensors, key=lambda pair: pair[0]):
        cpu = tensor.detach().to("cpu").contiguous().reshape(-1)
        digest.update(f"{name}:{cpu.dtype}".encode())
        digest.update(cpu.view(torch.uint8).numpy().data)
    return digest.hexdigest()[:12]


def decode_side(encoders: Iterable[Encoder]) -> int | None:
    """The smallest decode of a photo that serves every one of ``encoders`` (None: full size)."""
    sides = [encoder.input_side for encoder in encoders]
    return None if not sides or None in sides else max(side for side in sides if side is not None)


def sentence_transformer_texts(model: SentenceTransformer, texts: list[str]) -> np.ndarray:
    """One batch of texts through a sentence-transformers model, as unit float32 rows."""
    embeddings = model.encode(
        texts,
        batch_size=len(texts),
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    return l2_normalise(np.asarray(embeddings))
