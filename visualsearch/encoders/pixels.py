"""Image-to-tensor preprocessing with Pillow and numpy.

torchvision cannot be installed here, and transformers' own PIL image processor works image by
image in float64; this does the same resize and crop in Pillow and normalises a whole batch at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    import torch

RGB = tuple[float, float, float]
# Pillow first shrinks by an integer factor when the image is this many times too big: much
# faster on camera photos, and indistinguishable from a direct resize.
_REDUCING_GAP = 3.0
# A second bound behind catalog.imaging's aspect-ratio gate (photos stored before it, other
# callers): the long side is centre-cropped to this many times the short side before a
# short-side resize, so no resize asks for more than shortest_edge² x this many pixels.
MAX_RESIZE_RATIO = 20


@dataclass(frozen=True)
class PixelPipeline:
    """Resize, then centre-crop (``fit="crop"``) or pad to a square (``fit="letterbox"``), then normalise."""

    output_size: tuple[int, int]  # (height, width) of every tensor image
    mean: RGB
    std: RGB
    fit: Literal["crop", "letterbox"] = "crop"
    shortest_edge: int | None = None  # "crop": resize so the short side is this, before cropping
    resample: Image.Resampling = Image.Resampling.BICUBIC
    rescale: float = 1 / 255

    @classmethod
    def from_image_processor(cls, processor: Any) -> PixelPipeline:
        """Mirror a transformers CLIP-style image processor's settings (resize, crop, mean/std)."""
        size = _present(processor.size)
        crop = _present(processor.crop_size) if getattr(processor, "do_center_crop", False) else None
        if "shortest_edge" in size and crop:
            output, shortest = (int(crop["height"]), int(crop["width"])), int(size["shortest_edge"])
        elif "height" in size and "width" in size:
            output, shortest = (int(size["height"]), int(size["width"])), None
        else:
            raise ValueError(f"Unsupported image processor size {size!r} / crop {crop!r}")
        return cls(
            output_size=output,
            shortest_edge=shortest,
            mean=_rgb(processor.image_mean),
            std=_rgb(processor.image_std),
            resample=Image.Resampling(int(processor.resample)),
            rescale=float(processor.rescale_factor),
        )

    @property
    def input_side(self) -> int:
        """Pixels per side a photo needs before it is fitted: decoding more is wasted work."""
        return max(*self.output_size, self.shortest_edge or 0)

    def __call__(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """A float32 NCHW batch."""
        import torch

        height, width = self.output_size
        batch = np.empty((len(images), height, width, 3), dtype=np.uint8)
        for index, image in enumerate(images):
            batch[index] = np.asarray(self.fit_image(image))
        scale = np.asarray(self.std, dtype=np.float32)
        pixels = batch.astype(np.float32)
        pixels *= np.float32(self.rescale) / scale
        pixels -= np.asarray(self.mean, dtype=np.float32) / scale
        return torch.from_numpy(np.ascontiguousarray(pixels.transpose(0, 3, 1, 2)))

    def fit_image(self, image: Image.Image) -> Image.Image:
        """The RGB image at ``output_size``, before normalisation."""
        if image.mode != "RGB":
            image = image.convert("RGB")
        if self.fit == "letterbox":
            return _letterbox(image, self.output_size, self.resample)
        height, width = self.output_size
        if self.shortest_edge is not None:
            image = image.resize(
                _shortest_edge_size(image.size, self.shortest_edge),
                self.resample,
                box=ratio_box(image.size, MAX_RESIZE_RATIO),
                reducing_gap=_REDUCING_GAP,
            )
        else:
            image = image.resize((width, height), self.resample, reducing_gap=_REDUCING_GAP)
        left, top = (image.width - width) // 2, (image.height - height) // 2
        if left < 0 or top < 0:
            raise ValueError(f"Crop {self.output_size} is larger than the resized image {image.size}")
        return image.crop((left, top, left + width, top + height))


def ratio_box(size: tuple[int, int], max_ratio: float) -> tuple[int, int, int, int]:
    """The centred (left, top, right, bottom) part of an image of ``size`` whose long side is at
    most ``max_ratio`` times its short side: the whole image when it already is."""
    width, height = size
    short = max(min(width, height), 1)
    long_side = min(max(width, height), int(short * max_ratio))
    if width >= height:
        left = (width - long_side) // 2
        return left, 0, left + long_side, height
    top = (height - long_side) // 2
    return 0, top, width, top + long_side


def _shortest_edge_size(size: tuple[int, int], shortest_edge: int) -> tuple[int, int]:
    """(width, height) with the short side at ``shortest_edge``; truncates like transformers does.
    Sizes are taken from the ``ratio_box`` part, so the result is bounded from both sides."""
    left, top, right, bottom = ratio_box(size, MAX_RESIZE_RATIO)
    width, height = right - left, bottom - top
    if width <= height:
        return shortest_edge, int(shortest_edge * height / width)
    return int(shortest_edge * width / height), shortest_edge


def _letterbox(image: Image.Image, output_size: tuple[int, int], resample: Image.Resampling) -> Image.Image:
    """Whole product in frame: scale to fit, pad with the photo's own border colour."""
    height, width = output_size
    ratio = min(width / image.width, height / image.height)
    fitted = image.resize(
        (max(1, round(image.width * ratio)), max(1, round(image.height * ratio))),
        resample,
        reducing_gap=_REDUCING_GAP,
    )
    canvas = Image.new("RGB", (width, height), border_colour(fitted))
    canvas.paste(fitted, ((width - fitted.width) // 2, (height - fitted.height) // 2))
    return canvas


def border_colour(image: Image.Image) -> tuple[int, int, int]:
    """Median colour of the outermost pixels: the studio background of most product photos."""
    pixels = np.asarray(image)
    frame = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    red, green, blue = (int(value) for value in np.median(frame, axis=0))
    return red, green, blue


def _present(size: Any) -> dict[str, int]:
    """transformers' ``SizeDict`` lists every key, unused ones as None."""
    return {key: int(value) for key, value in dict(size).items() if value is not None}


def _rgb(values: float | Sequence[float]) -> RGB:
    if isinstance(values, int | float):
        return float(values), float(values), float(values)
    red, green, blue = (float(value) for value in values)
    return red, green, blue
