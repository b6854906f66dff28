"""Pooling a CNN feature map (n, c, h, w) into one unit descriptor per image.

Average pooling weighs every location alike, so a plain backdrop dilutes the object; generalized
mean (GeM, p > 1) leans towards the locations where a channel fires strongly.
"""

from __future__ import annotations

from typing import Final

import torch
import torch.nn.functional as F

POOLINGS: Final = ("avg", "gem")
_EPS: Final = 1e-6


def pool_features(features: torch.Tensor, *, method: str, p: float = 3.0) -> torch.Tensor:
    """Unit-length (n, c) descriptors of an (n, c, h, w) map; ``method`` is one of ``POOLINGS``."""
    if method == "avg":
        pooled = features.mean(dim=(2, 3))
    elif method == "gem":
        pooled = features.clamp_min(_EPS).pow(p).mean(dim=(2, 3)).pow(1.0 / p)
    else:
        raise ValueError(f"Unknown pooling {method!r}; choose one of {', '.join(POOLINGS)}")
    return F.normalize(pooled.float(), dim=1)
