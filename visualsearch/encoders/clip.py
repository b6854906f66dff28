"""CLIP: photos and words in one 512-d space, so a text query can find a photo and vice versa."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import torch
from django.core.exceptions import ImproperlyConfigured
from sentence_transformers import SentenceTransformer

from .base import (
    IMAGE,
    TEXT,
    Encoder,
    EncoderConfig,
    EncoderUnavailable,
    l2_normalise,
    resolve_device,
    sentence_transformer_texts,
    weights_fingerprint,
)
from .pixels import PixelPipeline

if TYPE_CHECKING:
    from PIL import Image

logger = logging.getLogger(__name__)

PRECISIONS: Final = ("fp32", "int8")
_HUB_ORGANISATION: Final = "sentence-transformers"  # where bare names such as clip-ViT-B-32 live
_HUB_PROBE_TIMEOUT_S: Final = 10.0


class ClipEncoder(Encoder):
    """sentence-transformers CLIP, with our own numpy preprocessing and image tower call for speed.

    ``PRECISION: "int8"`` quantises the image tower's Linear layers dynamically (CPU only).
    """

    name = "clip"
    modalities = frozenset({IMAGE, TEXT})

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__(config)
        precision = str(config.option("PRECISION", "fp32"))
        if precision not in PRECISIONS:
            raise ImproperlyConfigured(f"PRECISION of encoder {config.name!r} must be one of {PRECISIONS}")
        self.device = resolve_device(config.device)
        if precision == "int8" and self.device != "cpu":
            raise EncoderUnavailable("PRECISION int8 runs on the CPU only; use fp32 on a GPU.")
        self.precision = precision

        self._model = load_clip_model(config.model_name, device=self.device)
        clip = self._model.transformers_model
        if clip is None or not hasattr(clip, "vision_model") or not hasattr(clip, "visual_projection"):
            raise EncoderUnavailable(
                unavailable_message(config.model_name, "it is not a CLIP model with an image tower")
            )
        processor = self._model.processor
        self._pixels = PixelPipeline.from_image_processor(getattr(processor, "image_processor", processor))
        self.input_side = self._pixels.input_side
        self._image_tower = _image_tower(clip, precision)
        self.dimension = int(clip.config.projection_dim)
        fingerprint = weights_fingerprint(
            clip.state_dict().items(),
            clip.config.to_dict(),
            self._pixels,
            _tokenizer_description(processor),
        )
        suffix = "" if precision == "fp32" else f"-{precision}"
        self.version = f"{config.model_name}@{fingerprint}{suffix}"

    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        return self._pixels(images)

    def encode_tensor(self, batch: torch.Tensor) -> np.ndarray:
        with torch.inference_mode():
            embeddings = self._image_tower(batch.to(self.device))
        return l2_normalise(embeddings.float().cpu().numpy())

    def _encode_text_batch(self, texts: list[str]) -> np.ndarray:
        return sentence_transformer_texts(self._model, texts)


def load_clip_model(model_name: str, *, device: str) -> SentenceTransformer:
    """Load ``model_name`` (hub name or local directory) or raise ``EncoderUnavailable``.

    Without network, huggingface_hub retries for over a minute before giving up; the local cache
    is tried first and the hub is asked once, briefly, before any download starts.
    """
    path = str(Path(model_name).expanduser())
    if Path(path).is_dir() or _looks_like_path(model_name):
        if not Path(path).is_dir():
            raise EncoderUnavailable(unavailable_message(model_name, f"no directory {path}"))
        return _load(path, device=device, local_files_only=True)

    try:
        return SentenceTransformer(model_name, device=device, local_files_only=True)
    except Exception:  # not cached (or a broken cache): ask the hub below
        logger.info("CLIP model %s is not in the local cache", model_name)
    _check_hub(model_name)
    return _load(model_name, device=device, local_files_only=False)


def unavailable_message(model_name: str, reason: str) -> str:
    """The operator-facing explanation of what to do when CLIP cannot be loaded."""
    return (
        f'CLIP model "{model_name}" could not be loaded ({reason}). '
        "shoplens needs network access to download it once, or set CLIP_MODEL to a local "
        'directory (e.g. one saved with SentenceTransformer("clip-ViT-B-32").save(path)), '
        'or disable the encoder by leaving "clip" out of the SHOPLENS_ENABLED_ENCODERS environment '
        "variable (e.g. SHOPLENS_ENABLED_ENCODERS=visual,text)."
    )


def _load(name_or_path: str, *, device: str, local_files_only: bool) -> SentenceTransformer:
    try:
        return SentenceTransformer(name_or_path, device=device, local_files_only=local_files_only)
    except Exception as error:  # any loader failure means the same to an operator
        raise EncoderUnavailable(unavailable_message(name_or_path, f"{type(error).__name__}: {error}")) from error


def _check_hub(model_name: str) -> None:
    """One short request that tells "offline" and "no such model" apart, without retries."""
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import RepositoryNotFoundError

    if constants.is_offline_mode():
        raise EncoderUnavailable(
            unavailable_message(model_name, "HF_HUB_OFFLINE is set and it is not in the local cache")
        )
    repo_id = model_name if "/" in model_name else f"{_HUB_ORGANISATION}/{model_name}"
    try:
        HfApi().model_info(repo_id, timeout=_HUB_PROBE_TIMEOUT_S)
    except RepositoryNotFoundError:
        raise EncoderUnavailable(
            unavailable_message(model_name, f"no model {repo_id} on the Hugging Face Hub")
        ) from None
    except Exception as error:  # DNS, TLS, proxy, timeout: all "unreachable"
        raise EncoderUnavailable(
            unavailable_message(model_name, f"the Hugging Face Hub cannot be reached: {error}")
        ) from error


def _looks_like_path(model_name: str) -> bool:
    """Hub ids are ``name`` or ``org/name``; anything else must be a directory."""
    return model_name.startswith(("/", ".", "~")) or model_name.count("/") > 1 or "\\" in model_name


def _tokenizer_description(processor: Any) -> str:
    tokenizer = getattr(processor, "tokenizer", processor)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return backend.to_str() if backend is not None else repr(tokenizer)


class ImageTower(torch.nn.Module):
    """CLIP's vision transformer plus projection: all that image embedding runs."""

    def __init__(self, clip: Any) -> None:
        super().__init__()
        self.vision_model = clip.vision_model
        self.visual_projection = clip.visual_projection

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        pooled = self.vision_model(pixel_values=pixel_values).pooler_output
        return self.visual_projection(pooled)


def _image_tower(clip: Any, precision: str) -> torch.nn.Module:
    tower: torch.nn.Module = ImageTower(clip).eval()
    if precision == "int8":
        with warnings.catch_warnings():
            # torch marks eager quantisation deprecated (in favour of torchao) but still ships it.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            try:
                from torch.ao.quantization import quantize_dynamic
            except ImportError as error:
                raise ImproperlyConfigured(
                    "PRECISION int8 needs torch.ao.quantization, which this torch no longer has; use fp32."
                ) from error
            tower = quantize_dynamic(tower, {torch.nn.Linear}, dtype=torch.qint8)
    return tower
