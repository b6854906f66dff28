"""Pytest plugin: a tiny real CLIP built at test time, and drawn product photos.

Loaded by the root conftest (``pytest_plugins = ["tests.encoder_fixtures"]``). The drawing helpers
are plain functions so indexing, search and browser tests can import them too.
"""

from __future__ import annotations

import copy
import io
import math
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
from PIL import Image, ImageColor, ImageDraw

Shape = Literal["circle", "square", "triangle", "star", "car"]
Colour = str | tuple[int, int, int]
_SUPERSAMPLE = 3  # draw big, shrink: smooth edges like a real photo


def make_product_photo(
    shape: Shape = "circle",
    colour: Colour = "red",
    *,
    size: tuple[int, int] = (224, 224),
    angle: float = 0.0,
    scale: float = 0.6,
    seed: int = 0,
    background: Colour = "white",
) -> Image.Image:
    """An RGB "studio shot": one ``colour`` object on a plain background.

    ``seed`` nudges position and adds faint sensor noise, so two photos of the same product
    are alike but never byte-identical; ``angle`` (degrees) rotates the object.
    """
    rng = random.Random(seed)
    width, height = size[0] * _SUPERSAMPLE, size[1] * _SUPERSAMPLE
    canvas = Image.new("RGB", (width, height), _rgb(background))
    draw = ImageDraw.Draw(canvas)
    centre = (
        width / 2 + rng.uniform(-0.04, 0.04) * width,
        height / 2 + rng.uniform(-0.04, 0.04) * height,
    )
    radius = min(width, height) / 2 * scale

    def place(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        turn = math.radians(angle)
        return [
            (
                centre[0] + radius * (x * math.cos(turn) - y * math.sin(turn)),
                centre[1] + radius * (x * math.sin(turn) + y * math.cos(turn)),
            )
            for x, y in points
        ]

    for part, part_colour in _parts(shape, _rgb(colour)):
        draw.polygon(place(part), fill=part_colour)
    photo = canvas.resize(size, Image.Resampling.LANCZOS)
    noise = np.random.default_rng(seed).normal(0.0, 2.0, (size[1], size[0], 3))
    pixels = np.clip(np.asarray(photo, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels)


def image_bytes(image: Image.Image, fmt: str = "PNG", **save_options: Any) -> bytes:
    """``image`` encoded as ``fmt`` (PNG, JPEG, WEBP, GIF, ...), as an upload would arrive."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save_options)
    return buffer.getvalue()


def _parts(shape: Shape, colour: tuple[int, int, int]) -> list[tuple[list[tuple[float, float]], Any]]:
    """Polygons in a unit box around the origin (y down), each with its fill."""
    if shape == "circle":
        return [(_ellipse(0, 0, 1, 1), colour)]
    if shape == "square":
        return [([(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)], colour)]
    if shape == "triangle":
        return [([(0, -0.95), (0.9, 0.75), (-0.9, 0.75)], colour)]
    if shape == "star":
        return [
            (
                [
                    (
                        (1.0 if i % 2 == 0 else 0.42) * math.sin(math.pi * i / 5),
                        -(1.0 if i % 2 == 0 else 0.42) * math.cos(math.pi * i / 5),
                    )
                    for i in range(10)
                ],
                colour,
            )
        ]
    if shape == "car":
        tyre, window = (30, 30, 30), (200, 220, 235)
        return [
            ([(-1, -0.05), (1, -0.05), (1, 0.4), (-1, 0.4)], colour),  # body
            ([(-0.55, -0.05), (-0.35, -0.45), (0.4, -0.45), (0.6, -0.05)], colour),  # cabin
            ([(-0.42, -0.08), (-0.3, -0.36), (0.02, -0.36), (0.02, -0.08)], window),
            ([(0.08, -0.08), (0.08, -0.36), (0.36, -0.36), (0.48, -0.08)], window),
            (_ellipse(-0.55, 0.4, 0.22, 0.22), tyre),
            (_ellipse(0.55, 0.4, 0.22, 0.22), tyre),
        ]
    raise ValueError(f"unknown shape {shape!r}")


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> list[tuple[float, float]]:
    return [(cx + rx * math.cos(2 * math.pi * i / 72), cy + ry * math.sin(2 * math.pi * i / 72)) for i in range(72)]


def _rgb(colour: Colour) -> tuple[int, int, int]:
    if isinstance(colour, str):
        red, green, blue = ImageColor.getrgb(colour)[:3]
        return red, green, blue
    return colour


@pytest.fixture
def product_photo() -> Callable[..., Image.Image]:
    """``make_product_photo`` as a fixture, for tests that prefer injection to imports."""
    return make_product_photo


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded random CLIP with a 512-d projection, in sentence-transformers format (built once)."""
    from devtools.random_clip import build_random_clip

    return build_random_clip(tmp_path_factory.mktemp("tiny-clip"), size="tiny", seed=0)


@pytest.fixture
def use_tiny_clip(settings: Any, tiny_clip_dir: Path) -> Iterator[Path]:
    """Point the ``clip`` encoder at the tiny model for one test, with a fresh registry around it."""
    from visualsearch.encoders import reset_encoders

    encoders = copy.deepcopy(settings.SHOPLENS_ENCODERS)
    encoders["clip"] = {
        "BACKEND": "visualsearch.encoders.clip.ClipEncoder",
        "DEVICE": "auto",
        "BATCH_SIZE": 32,
        **encoders.get("clip", {}),
        "MODEL": str(tiny_clip_dir),
    }
    settings.SHOPLENS_ENCODERS = encoders
    reset_encoders()
    yield tiny_clip_dir
    reset_encoders()
