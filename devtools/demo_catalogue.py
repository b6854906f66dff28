"""An offline demo catalogue: products drawn with Pillow, several photos each, from a seed.

Nothing is downloaded, so ``manage.py demo`` works on a machine without network. Every product
is one object (bag, mug, shoe, lamp, t-shirt) in one colour and style; its photos show it from
different angles, distances and backgrounds, so one photo finds the others.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from PIL import Image, ImageDraw, ImageFilter

from catalog.models import Product
from catalog.services import ImageUpload, brand_ensure, category_ensure_path, product_create

Point = tuple[float, float]
RGB = tuple[int, int, int]
PHOTO_SIZE = 320

COLOURS: dict[str, RGB] = {
    "Red": (196, 40, 40),
    "Navy": (30, 45, 110),
    "Forest green": (34, 110, 60),
    "Mustard": (214, 170, 40),
    "Black": (30, 30, 32),
    "Sky blue": (110, 170, 230),
    "Pink": (232, 120, 170),
    "Orange": (235, 120, 30),
    "Teal": (20, 140, 140),
    "Purple": (110, 60, 160),
}
BACKGROUNDS: tuple[RGB, ...] = ((250, 250, 250), (232, 232, 228), (244, 236, 220), (225, 236, 245))


@dataclass(frozen=True)
class Kind:
    noun: str
    category: tuple[str, ...]
    brands: tuple[str, ...]
    styles: tuple[str, ...]
    price_range: tuple[int, int]
    blurb: str


KINDS: tuple[Kind, ...] = (
    Kind(
        "Tote Bag",
        ("Bags", "Totes"),
        ("Canvasco", "Harbor & Pine"),
        ("Classic", "Striped", "Market"),
        (19, 89),
        "A roomy tote with sturdy handles, sized for a laptop and the weekly shop.",
    ),
    Kind(
        "Mug",
        ("Home", "Kitchen", "Mugs"),
        ("Kilnworks", "Morning Ritual"),
        ("Stoneware", "Dotted", "Tall"),
        (9, 29),
        "A glazed ceramic mug that keeps coffee warm; dishwasher safe.",
    ),
    Kind(
        "Sneaker",
        ("Clothing", "Shoes"),
        ("Stride", "Northpeak"),
        ("Runner", "Court", "Trail"),
        (49, 149),
        "A light everyday sneaker with a cushioned sole and breathable upper.",
    ),
    Kind(
        "Table Lamp",
        ("Home", "Lighting"),
        ("Lumen Studio", "Nordlys"),
        ("Cone", "Drum", "Dome"),
        (35, 190),
        "A bedside lamp with a fabric shade and warm light.",
    ),
    Kind(
        "T-shirt",
        ("Clothing", "T-shirts"),
        ("Basics Co.", "Tidewear"),
        ("Crew", "Pocket", "Striped"),
        (12, 39),
        "A soft cotton t-shirt with a relaxed fit.",
    ),
)


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    description: str
    price: Decimal
    brand: str
    category: tuple[str, ...]
    stock: int
    rating: Decimal
    attributes: dict[str, str] = field(default_factory=dict)
    photos: tuple[bytes, ...] = ()


def demo_products(*, count: int = 48, seed: int = 2024, photos_per_product: int = 4) -> Iterator[DemoProduct]:
    """``count`` products spread over the kinds, each in a colour/style pair not used before."""
    rng = random.Random(seed)
    combos = {kind.noun: [(c, s) for c in COLOURS for s in kind.styles] for kind in KINDS}
    for combo in combos.values():
        rng.shuffle(combo)
    for index in range(count):
        kind = KINDS[index % len(KINDS)]
        colour, style = combos[kind.noun][(index // len(KINDS)) % len(combos[kind.noun])]
        low, high = kind.price_range
        photos = tuple(
            _photo(kind, style, COLOURS[colour], view=view, rng=random.Random(f"{seed}-{index}-{view}"))
            for view in range(photos_per_product)
        )
        yield DemoProduct(
            sku=f"DEMO-{index + 1:03d}",
            name=f"{style} {colour.lower()} {kind.noun.lower()}".capitalize(),
            description=f"{kind.blurb} Colour: {colour.lower()}.",
            price=Decimal(rng.randint(low, high)) - Decimal("0.01"),
            brand=rng.choice(kind.brands),
            category=kind.category,
            stock=rng.choice([0, 3, 8, 12, 25, 40]),
            rating=Decimal(str(round(rng.uniform(3.4, 5.0), 1))),
            attributes={"colour": colour.lower(), "style": style.lower()},
            photos=photos,
        )


def demo_catalogue_create(*, count: int = 48, seed: int = 2024) -> list[Product]:
    """Write the demo products through catalog.services (so indexing follows as usual)."""
    created = []
    for item in demo_products(count=count, seed=seed):
        created.append(
            product_create(
                sku=item.sku,
                name=item.name,
                description=item.description,
                price=item.price,
                brand=brand_ensure(name=item.brand),
                category=category_ensure_path(names=item.category),
                stock=item.stock,
                rating=item.rating,
                attributes=item.attributes,
                images=[
                    ImageUpload(file=photo, name=f"{item.sku.lower()}-{n + 1}.jpg", alt_text=item.name)
                    for n, photo in enumerate(item.photos)
                ],
            )
        )
    return created


def _photo(kind: Kind, style: str, colour: RGB, *, view: int, rng: random.Random) -> bytes:
    """One studio shot: view 0 straight on, 1 turned, 2 close crop, 3 mirrored on another background."""
    size = PHOTO_SIZE * 2  # drawn big, shrunk: smooth edges
    background = BACKGROUNDS[(view + rng.randint(0, 1)) % len(BACKGROUNDS)] if view else BACKGROUNDS[0]
    canvas = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(canvas)
    angle = (0.0, rng.uniform(-18, 18), rng.uniform(-6, 6), rng.uniform(-10, 10))[view % 4]
    scale = (0.34, 0.32, 0.46, 0.3)[view % 4] * size
    centre = (size / 2 + rng.uniform(-0.05, 0.05) * size, size / 2 + rng.uniform(-0.05, 0.05) * size)
    # A soft floor shadow, then the object's parts.
    draw.ellipse(
        [centre[0] - scale * 0.9, centre[1] + scale * 0.85, centre[0] + scale * 0.9, centre[1] + scale * 1.0],
        fill=tuple(max(0, c - 28) for c in background),
    )
    for points, fill in _parts(kind.noun, style, colour):
        draw.polygon(_place(points, centre, scale, angle), fill=fill)
    if view % 4 == 3:
        canvas = canvas.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if view % 4 == 2:  # close-up: crop around the centre
        margin = int(size * 0.12)
        canvas = canvas.crop((margin, margin, size - margin, size - margin))
    photo = canvas.resize((PHOTO_SIZE, PHOTO_SIZE), Image.Resampling.LANCZOS).filter(ImageFilter.SMOOTH)
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()


def _place(points: list[Point], centre: Point, scale: float, angle: float) -> list[Point]:
    turn = math.radians(angle)
    cos, sin = math.cos(turn), math.sin(turn)
    return [(centre[0] + scale * (x * cos - y * sin), centre[1] + scale * (x * sin + y * cos)) for x, y in points]


def _shade(colour: RGB, amount: float) -> RGB:
    """Lighter (amount > 0) or darker (amount < 0) version of ``colour``."""
    target = 255 if amount > 0 else 0
    return tuple(int(c + (target - c) * abs(amount)) for c in colour)  # type: ignore[return-value]


def _ellipse(cx: float, cy: float, rx: float, ry: float, start: float = 0, end: float = 360) -> list[Point]:
    steps = 48
    return [
        (
            cx + rx * math.cos(math.radians(start + (end - start) * i / steps)),
            cy + ry * math.sin(math.radians(start + (end - start) * i / steps)),
        )
        for i in range(steps + 1)
    ]


def _rect(x0: float, y0: float, x1: float, y1: float) -> list[Point]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _stripes(x0: float, y0: float, x1: float, y1: float, count: int) -> list[list[Point]]:
    height = (y1 - y0) / (count * 2)
    return [_rect(x0, y0 + height * (2 * i + 0.5), x1, y0 + height * (2 * i + 1.5)) for i in range(count)]


def _parts(noun: str, style: str, colour: RGB) -> list[tuple[list[Point], RGB]]:
    """Polygons in a unit box around the origin (y down), each with its fill."""
    dark, light = _shade(colour, -0.35), _shade(colour, 0.55)
    parts: list[tuple[list[Point], RGB]] = []
    if noun == "Tote Bag":
        handle_outer, handle_inner = _ellipse(0, -0.45, 0.45, 0.5, 180, 360), _ellipse(0, -0.45, 0.33, 0.38, 360, 180)
        parts.append((handle_outer + handle_inner, dark))
        parts.append(([(-0.75, -0.45), (0.75, -0.45), (0.85, 0.85), (-0.85, 0.85)], colour))
        if style == "Striped":
            parts += [(s, light) for s in _stripes(-0.8, -0.3, 0.8, 0.8, 3)]
        if style == "Market":
            parts.append((_rect(-0.35, 0.0, 0.35, 0.45), light))
    elif noun == "Mug":
        width = 0.5 if style == "Tall" else 0.62
        top = -0.85 if style == "Tall" else -0.6
        parts.append((_ellipse(width, 0.05, 0.38, 0.36) + _ellipse(width, 0.05, 0.22, 0.2, 360, 0), dark))
        parts.append((_rect(-width, top, width, 0.75), colour))
        parts.append((_ellipse(0, top, width, 0.1), light))
        if style == "Dotted":
            parts += [(_ellipse(x, y, 0.07, 0.07), light) for x in (-0.3, 0.05, 0.35) for y in (-0.2, 0.25)]
    elif noun == "Sneaker":
        toe = 0.95 if style == "Runner" else 0.85
        parts.append(
            ([(-0.9, 0.1), (-0.85, -0.45), (-0.35, -0.5), (0.2, -0.1), (toe, 0.05), (toe, 0.35), (-0.9, 0.35)], colour)
        )
        sole = (245, 245, 240) if style != "Trail" else (60, 50, 40)
        parts.append((_rect(-0.95, 0.33, toe + 0.03, 0.5), sole))
        parts += [
            (_rect(-0.3 + 0.15 * i, -0.35 + 0.08 * i, -0.22 + 0.15 * i, -0.05 + 0.08 * i), light) for i in range(3)
        ]
        if style == "Court":
            parts.append((_rect(-0.8, -0.1, -0.45, 0.2), dark))
    elif noun == "Table Lamp":
        parts.append((_rect(-0.45, 0.78, 0.45, 0.9), (60, 60, 60)))
        parts.append((_rect(-0.05, -0.2, 0.05, 0.8), (120, 110, 100)))
        if style == "Cone":
            parts.append(([(-0.25, -0.85), (0.25, -0.85), (0.7, -0.15), (-0.7, -0.15)], colour))
        elif style == "Drum":
            parts.append((_rect(-0.55, -0.85, 0.55, -0.15), colour))
        else:
            parts.append((_ellipse(0, -0.15, 0.65, 0.7, 180, 360), colour))
        parts.append((_ellipse(0, -0.05, 0.18, 0.1), (255, 236, 170)))
    else:  # T-shirt
        parts.append(
            (
                [
                    (-0.35, -0.8),
                    (-0.12, -0.72),
                    (0.12, -0.72),
                    (0.35, -0.8),
                    (0.9, -0.45),
                    (0.7, -0.15),
                    (0.5, -0.28),
                    (0.5, 0.85),
                    (-0.5, 0.85),
                    (-0.5, -0.28),
                    (-0.7, -0.15),
                    (-0.9, -0.45),
                ],
                colour,
            )
        )
        parts.append((_ellipse(0, -0.74, 0.14, 0.1), dark))
        if style == "Striped":
            parts += [(s, light) for s in _stripes(-0.5, -0.3, 0.5, 0.8, 4)]
        if style == "Pocket":
            parts.append((_rect(0.15, -0.35, 0.38, -0.1), dark))
    return parts
