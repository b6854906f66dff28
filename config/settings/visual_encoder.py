"""The visual encoder's entry of ``SHOPLENS_ENCODERS``, read from the environment.

Kept apart from base.py so that file stays one screenful per concern; every option but BATCH_SIZE
and DEVICE is part of the encoder's version, so changing one fills a new embedding space.
"""

from __future__ import annotations

import environ


def visual_encoder(env: environ.Env) -> dict[str, object]:
    return {
        "BACKEND": "visualsearch.encoders.visual.VisualEncoder",
        "MODEL": env("VISUAL_MODEL", default="efficientnet-lite0"),
        "DEVICE": env("ENCODER_DEVICE", default="auto"),
        "BATCH_SIZE": env.int("VISUAL_BATCH_SIZE", default=32),
        "FRAMING": env.bool("VISUAL_FRAMING", default=False),  # crop to the product on a plain backdrop
        "POOLING": env("VISUAL_POOLING", default="avg"),  # avg | gem (generalized mean, exponent GEM_P)
        "GEM_P": env.float("VISUAL_GEM_P", default=3.0),
        "COLOUR_WEIGHT": env.float("VISUAL_COLOUR_WEIGHT", default=0.35),  # share of the similarity from colour
        "WHITENING": env("VISUAL_WHITENING", default=""),  # a file from manage.py fit_visual_whitening
    }
