"""Product framing: crop a product-on-plain-background photo to the product, with a margin.

The same object photographed closer or further away then fills the frame alike, so the CNN sees
it at one scale. A photo without a plain backdrop (a scene, a busy pattern) is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from PIL import Image

FRAMING_VERSION: Final = "frame-v1"  # change when anything below changes

_PROBE_SIDE: Final = 96  # the mask is found on a small copy: fast, and blind to JPEG noise
_BACKDROP_DISTANCE: Final = 32.0  # RGB distance from the border colour that still counts as backdrop
_MIN_PLAIN_BORDER: Final = 0.7  # share of border pixels near the border colour: else a busy photo
_MIN_FOREGROUND: Final = 0.01  # below this share of the photo, nothing was found to frame
_LINE_SHARE: Final = 0.02  # a row/column is part of the product when this share of it is foreground
_MARGIN: Final = 0.06  # of the product box's longer side, on every side
_MIN_GAIN: Final = 0.9  # crop only when the box is at most this share of the photo's area


@dataclass(frozen=True)
class Framing:
    """Where the product is: a (left, top, right, bottom) box in the photo's pixels."""

    box: tuple[int, int, int, int]
    plain_backdrop: bool


def product_box(image: Image.Image) -> Framing:
    """The product's box with margins; the whole photo when the backdrop is not plain or the box
    would hardly differ from it."""
    whole = (0, 0, image.width, image.height)
    probe = image.convert("RGB")
    probe.thumbnail((_PROBE_SIDE, _PROBE_SIDE), Image.Resampling.BILINEAR)
    pixels = np.asarray(probe, dtype=np.float32)
    if pixels.shape[0] < 4 or pixels.shape[1] < 4:
        return Framing(whole, plain_backdrop=False)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    backdrop = np.median(border, axis=0)
    near = np.sqrt(((border - backdrop) ** 2).sum(axis=1)) <= _BACKDROP_DISTANCE
    if near.mean() < _MIN_PLAIN_BORDER:
        return Framing(whole, plain_backdrop=False)
    foreground = np.sqrt(((pixels - backdrop) ** 2).sum(axis=2)) > _BACKDROP_DISTANCE
    if foreground.mean() < _MIN_FOREGROUND:
        return Framing(whole, plain_backdrop=True)
    rows = _span(foreground.mean(axis=1))
    columns = _span(foreground.mean(axis=0))
    if rows is None or columns is None:
        return Framing(whole, plain_backdrop=True)
    scale_x, scale_y = image.width / pixels.shape[1], image.height / pixels.shape[0]
    left, right = columns[0] * scale_x, (columns[1] + 1) * scale_x
    top, bottom = rows[0] * scale_y, (rows[1] + 1) * scale_y
    margin = _MARGIN * max(right - left, bottom - top)
    box = (
        max(0, int(left - margin)),
        max(0, int(top - margin)),
        min(image.width, int(np.ceil(right + margin))),
        min(image.height, int(np.ceil(bottom + margin))),
    )
    area = (box[2] - box[0]) * (box[3] - box[1])
    if area > _MIN_GAIN * image.width * image.height:
        return Framing(whole, plain_backdrop=True)
    return Framing(box, plain_backdrop=True)


def frame_product(image: Image.Image) -> Image.Image:
    """``image`` cropped to its product (see ``product_box``); the photo itself when there is none."""
    framing = product_box(image)
    if framing.box == (0, 0, image.width, image.height):
        return image
    return image.crop(framing.box)


def _span(share: np.ndarray) -> tuple[int, int] | None:
    """First and last index whose foreground share reaches ``_LINE_SHARE``."""
    hits = np.flatnonzero(share >= _LINE_SHARE)
    if hits.size == 0:
        return None
    return int(hits[0]), int(hits[-1])
