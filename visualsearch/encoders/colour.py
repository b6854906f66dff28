"""A small colour histogram of the product, not of the studio backdrop behind it."""

from __future__ import annotations

from typing import Final

import torch
import torch.nn.functional as F

HUE_BINS: Final = 12
LIGHTNESS_BINS: Final = 2  # dark / bright version of each hue
GREY_BINS: Final = 4  # black .. white for colourless pixels
COLOUR_BINS: Final = HUE_BINS * LIGHTNESS_BINS + GREY_BINS
DESCRIPTOR_VERSION: Final = f"hsv{COLOUR_BINS}-v1"  # change when anything below changes

_DOWNSAMPLE: Final = 4  # 224 px -> 56 px: plenty for colour, 16x fewer pixels
_BACKGROUND_DISTANCE: Final = (0.08, 0.20)  # RGB distance from backdrop: ignored .. fully counted
_CHROMA: Final = (0.08, 0.23)  # max-min of RGB: grey .. fully coloured
_MIN_FOREGROUND: Final = 0.02  # below this share, the whole photo is the product (a swatch)


def colour_histograms(rgb: torch.Tensor) -> torch.Tensor:
    """Unit-length (Hellinger) hue x lightness + grey histograms of an (n, 3, h, w) batch in [0, 1].

    Bins are soft (each pixel is split between neighbouring bins) so a hue on a bin edge does not
    flip between bins, and pixels close to the border colour are left out as background.
    """
    pixels = F.avg_pool2d(rgb.float().cpu(), _DOWNSAMPLE) if rgb.shape[-1] >= 4 * _DOWNSAMPLE else rgb
    weight = _foreground_weight(pixels).flatten(1)  # (n, p)
    red, green, blue = (channel.flatten(1) for channel in pixels.unbind(1))
    top = torch.maximum(torch.maximum(red, green), blue)
    chroma = top - torch.minimum(torch.minimum(red, green), blue)
    colourful = _ramp(chroma, *_CHROMA)

    histogram = torch.zeros(pixels.shape[0], COLOUR_BINS)
    hue_low, hue_high, hue_frac = _soft_bins(_hue(red, green, blue, top, chroma) * HUE_BINS, HUE_BINS, wrap=True)
    bright = _ramp(top, 0.3, 0.7)
    for hue_bin, hue_share in ((hue_low, 1 - hue_frac), (hue_high, hue_frac)):
        for lightness, share in ((0, 1 - bright), (1, bright)):
            histogram.scatter_add_(1, hue_bin * LIGHTNESS_BINS + lightness, weight * colourful * hue_share * share)
    grey_low, grey_high, grey_frac = _soft_bins(top * (GREY_BINS - 1), GREY_BINS, wrap=False)
    offset = HUE_BINS * LIGHTNESS_BINS
    greyness = weight * (1 - colourful)
    histogram.scatter_add_(1, offset + grey_low, greyness * (1 - grey_frac))
    histogram.scatter_add_(1, offset + grey_high, greyness * grey_frac)

    histogram = histogram / histogram.sum(dim=1, keepdim=True).clamp_min(1e-12)
    return histogram.sqrt()  # sqrt of a distribution has unit L2 norm: cosine = Bhattacharyya


def _foreground_weight(pixels: torch.Tensor) -> torch.Tensor:
    """Per-pixel weight in [0, 1]: how far the pixel is from the photo's border (backdrop) colour."""
    frame = torch.cat([pixels[..., 0, :], pixels[..., -1, :], pixels[..., :, 0], pixels[..., :, -1]], dim=-1)
    backdrop = frame.median(dim=-1).values[..., None, None]  # (n, 3, 1, 1)
    distance = (pixels - backdrop).square().sum(dim=1).sqrt()  # (n, h, w)
    weight = _ramp(distance, *_BACKGROUND_DISTANCE)
    too_little = weight.flatten(1).mean(dim=1) < _MIN_FOREGROUND
    weight[too_little] = 1.0
    return weight


def _hue(
    red: torch.Tensor, green: torch.Tensor, blue: torch.Tensor, top: torch.Tensor, chroma: torch.Tensor
) -> torch.Tensor:
    """Hue in [0, 1) (0 red, 1/3 green, 2/3 blue); 0 for greys, whose weight is zero anyway."""
    safe = chroma.clamp_min(1e-6)
    hue = torch.where(
        top == red,
        ((green - blue) / safe) % 6,
        torch.where(top == green, (blue - red) / safe + 2, (red - green) / safe + 4),
    )
    return torch.where(chroma > 0, hue / 6, torch.zeros_like(hue))


def _soft_bins(position: torch.Tensor, bins: int, *, wrap: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Neighbouring bin indices and the share of the upper one for a continuous bin position."""
    position = position if wrap else position.clamp(0, bins - 1)
    low = position.floor()
    frac = position - low
    low_index = low.long() % bins if wrap else low.long().clamp(0, bins - 1)
    high_index = (low_index + 1) % bins if wrap else (low_index + 1).clamp(max=bins - 1)
    return low_index, high_index, frac


def _ramp(values: torch.Tensor, start: float, end: float) -> torch.Tensor:
    """0 below ``start``, 1 above ``end``, linear between."""
    return ((values - start) / (end - start)).clamp(0.0, 1.0)
