"""A region of a query photo: search only what is inside the shopper's box.

A crop is ``x,y,w,h``, either in pixels of the upright photo or, when every value is at most 1,
in fractions of its width and height. The cropped region is encoded as a new PNG, so its query
vectors are cached under its own SHA-256 like any photo.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from catalog.imaging import ImageRejected, read_image

MIN_SIDE_PIXELS = 16  # a smaller box holds too little to search by


class CropInvalid(ValueError):
    """``str(exc)`` says what is wrong with the crop, for the shopper or the API client."""


@dataclass(frozen=True)
class Crop:
    x: float
    y: float
    w: float
    h: float

    @property
    def fractional(self) -> bool:
        return max(self.x, self.y, self.w, self.h) <= 1.0

    def as_text(self) -> str:
        return ",".join(f"{value:.4g}" for value in (self.x, self.y, self.w, self.h))

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) in pixels, clipped to the photo."""
        scale_x, scale_y = (width, height) if self.fractional else (1, 1)
        left, top = max(0, round(self.x * scale_x)), max(0, round(self.y * scale_y))
        right, bottom = min(width, round((self.x + self.w) * scale_x)), min(height, round((self.y + self.h) * scale_y))
        if right - left < MIN_SIDE_PIXELS or bottom - top < MIN_SIDE_PIXELS:
            raise CropInvalid(f"The crop must be at least {MIN_SIDE_PIXELS}×{MIN_SIDE_PIXELS} pixels inside the photo.")
        return left, top, right, bottom


def parse_crop(text: str | None) -> Crop | None:
    """``"x,y,w,h"`` (pixels, or fractions when all are at most 1); empty means the whole photo."""
    if text is None or not text.strip():
        return None
    parts = text.replace(" ", "").split(",")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise CropInvalid("A crop is four numbers: x,y,w,h (pixels, or fractions of the photo).") from None
    if len(values) != 4 or any(value != value or value < 0 for value in values):  # value != value: NaN
        raise CropInvalid("A crop is four numbers: x,y,w,h (pixels, or fractions of the photo).")
    if values[2] <= 0 or values[3] <= 0:
        raise CropInvalid("A crop needs a width and a height above 0.")
    return Crop(*values)


def cropped_photo(content: bytes, crop: Crop | None) -> bytes:
    """The photo's region as PNG bytes (the photo itself without a crop). Raises ``ImageRejected``
    for a photo that is not acceptable and ``CropInvalid`` for a box outside it."""
    if crop is None:
        return content
    image = read_image(content)
    region = image.crop(crop.box(image.width, image.height))
    buffer = io.BytesIO()
    region.save(buffer, format="PNG")
    return buffer.getvalue()


__all__ = ["Crop", "CropInvalid", "ImageRejected", "cropped_photo", "parse_crop"]
