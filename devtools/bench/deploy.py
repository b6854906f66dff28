"""Deployment benchmarks: the bytes a browser fetches for one catalogue page (originals against
the thumbnails its srcset picks), and the first searches after a gunicorn start with and without
the warm-up. Both run against this checkout's database and media."""

from __future__ import annotations

import random
import re
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.test import Client

from catalog.models import ProductImage
from devtools.loadtest import photo_search, text_search
from devtools.production import production_environment, start_gunicorn

PICTURE = re.compile(r'<picture><source type="image/webp" srcset="([^"]+)" sizes="([^"]+)">.*?src="([^"]+)"', re.S)
SLOT = re.compile(r"(?:\(min-width:\s*(\d+)px\)\s*)?(\d+)(px|vw)")


@dataclass(frozen=True)
class PageBytes:
    html: int
    images: int
    originals: int
    thumbnails: int


def slot_width(sizes: str, viewport: int) -> float:
    """The width ``sizes`` gives an image at this viewport width (the first matching entry)."""
    for entry in sizes.split(","):
        match = SLOT.search(entry.strip())
        if match and (match.group(1) is None or viewport >= int(match.group(1))):
            value = float(match.group(2))
            return value if match.group(3) == "px" else viewport * value / 100
    return float(viewport)


def chosen(srcset: str, needed: float) -> str:
    """The candidate a browser takes: the narrowest at least ``needed`` wide, else the widest."""
    candidates = sorted(
        (int(w.rstrip("w")), url) for url, w in (item.strip().rsplit(" ", 1) for item in srcset.split(","))
    )
    return next((url for width, url in candidates if width >= needed), candidates[-1][1])


def _size(url: str) -> int:
    return int(default_storage.size(url.removeprefix(settings.MEDIA_URL)))


def catalogue_page_bytes(*, viewport: int = 1280, density: float = 1.0) -> PageBytes:
    """HTML plus every card's image: the WebP thumbnail ``srcset`` picks, against its original."""
    html = Client(HTTP_HOST="localhost").get("/").content.decode()
    pictures = PICTURE.findall(html)
    thumbs = sum(_size(chosen(srcset, slot_width(sizes, viewport) * density)) for srcset, sizes, _ in pictures)
    # imagekit names a thumbnail CACHE/thumbnails/<photo name without extension>/<hash>.<format>
    names = [re.sub(r"^.*/CACHE/thumbnails/", "", src).rsplit("/", 1)[0] for _, _, src in pictures]
    originals = 0
    for name in names:
        image = ProductImage.objects.filter(image__startswith=f"{name}.").first()
        originals += int(image.image.size) if image else 0
    return PageBytes(html=len(html.encode()), images=len(pictures), originals=originals, thumbnails=thumbs)


@dataclass(frozen=True)
class FirstSearch:
    warm_up: bool
    start_to_ready_s: float
    first_text_ms: float
    first_photo_ms: float
    second_photo_ms: float


def first_searches(*, warm_up: bool, folder: Path, database_url: str, redis_url: str) -> FirstSearch:
    """Start one gunicorn worker, then time the first text and photo searches it answers."""
    env = production_environment(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SHOPLENS_WARMUP=str(warm_up).lower(),
        SHOPLENS_SEARCH_THROTTLE_RATE="1000/min",
        HF_HUB_OFFLINE="1",
    )
    started = time.perf_counter()
    server = start_gunicorn(env=env, folder=folder, workers=1)
    ready = time.perf_counter() - started
    try:
        timings: list[float] = []
        for make in (text_search, photo_search, photo_search):
            request = make(random.Random(len(timings)))
            call = urllib.request.Request(server.url + request.path, data=request.body or None, headers=request.headers)
            begun = time.perf_counter()
            with urllib.request.urlopen(call, timeout=120) as response:
                response.read()
            timings.append((time.perf_counter() - begun) * 1000)
    finally:
        server.stop()
    return FirstSearch(warm_up, round(ready, 2), *(round(t, 1) for t in timings))
