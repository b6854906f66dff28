"""Load every enabled encoder and run one tiny query through it, so the first shopper after a
start does not pay the model load (called from gunicorn's ``post_worker_init`` and the worker)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from PIL import Image

logger = logging.getLogger(__name__)


def warm_up(*, between: Callable[[], None] | None = None) -> dict[str, float]:
    """Seconds per encoder; an encoder that cannot load is logged and skipped (search runs
    without it, as it would on first use). ``between`` runs after each (gunicorn's heartbeat)."""
    from visualsearch.encoders import IMAGE, TEXT, EncoderUnavailable, get_encoder

    timings: dict[str, float] = {}
    picture = Image.new("RGB", (224, 224), (128, 128, 128))
    for name in settings.SHOPLENS_ENABLED_ENCODERS:
        started = time.perf_counter()
        try:
            encoder = get_encoder(name)
            if IMAGE in encoder.modalities:
                encoder.encode_images([picture])
            if TEXT in encoder.modalities:
                encoder.encode_texts(["warm up"])
        except EncoderUnavailable as exc:
            logger.warning("Warm-up: encoder %s unavailable: %s", name, exc)
            continue
        finally:
            if between is not None:
                between()
        timings[name] = time.perf_counter() - started
        logger.info("Warm-up: encoder %s ready in %.2f s", name, timings[name])
    return timings


def warm_up_enabled() -> bool:
    return bool(getattr(settings, "SHOPLENS_WARMUP", False))
