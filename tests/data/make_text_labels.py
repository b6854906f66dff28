"""Writes the text-query labels of ``eval_search`` for the DummyJSON and the demo catalogues.

``python -m tests.data.make_text_labels [DUMMYJSON products.json]``: per product a name query (its
title), and where the title names a colour a colour + type query ("brown perfume"); for the demo
catalogue "<colour> <style> <kind>" ("red running shoe"), which only one product matches. A few
SKU queries and misspelt names (one letter dropped) check the lexical side.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLOURS = {"red", "blue", "black", "brown", "golden", "gold", "silver", "white", "yellow", "orange", "green", "pink"}


def _write(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["query", "expected_sku", "kind", "group"])
        writer.writerows((query, sku, "text", group) for query, sku, group in rows)


def _misspelt(title: str) -> str:
    words = title.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    words[longest] = word[: len(word) // 2] + word[len(word) // 2 + 1 :]
    return " ".join(words)


def dummyjson_rows(products_json: Path) -> list[tuple[str, str, str]]:
    data = json.loads(products_json.read_text(encoding="utf-8"))
    rows = []
    for item in data["products"] if isinstance(data, dict) else data:
        sku, title = f"dummyjson-{item['id']}", " ".join(str(item["title"]).split()).strip(" -.")
        rows.append((title.lower(), sku, "name"))
        words = [w.strip(".,").lower() for w in title.split()]
        colour = next((w for w in words if w in COLOURS), None)
        if colour and len(words) > 1:
            rows.append((f"{colour} {words[-1]}", sku, "colour+type"))
        if item["id"] % 10 == 0:
            rows.append((sku, sku, "sku"))
        if item["id"] % 5 == 3 and len(title) > 6:
            rows.append((_misspelt(title.lower()), sku, "misspelt"))
    return rows


def demo_rows() -> list[tuple[str, str, str]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from devtools.demo_catalogue import demo_products

    rows = []
    for product in demo_products(photos_per_product=0):
        colour, style = product.attributes["colour"], product.attributes["style"]
        kind = product.name.lower().removeprefix(style).strip().removeprefix(colour).strip()
        rows.append((f"{colour} {style} {kind}", product.sku, "colour+type"))
        rows.append((product.name.lower(), product.sku, "name"))
        if product.sku.endswith("0"):
            rows.append((product.sku, product.sku, "sku"))
            rows.append((_misspelt(product.name.lower()), product.sku, "misspelt"))
    return rows


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/datasets/dummyjson-v1/products.json")
    _write(HERE / "text_labels_dummyjson.csv", dummyjson_rows(source))
    _write(HERE / "text_labels_demo.csv", demo_rows())
