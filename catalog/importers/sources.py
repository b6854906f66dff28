"""Catalogue sources (DummyJSON products, the documented CSV) parsed into one row type.

A row that cannot be parsed becomes a ``RowFailure`` so the import reports it and goes on.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from catalog.importers.markup import html_to_text

CATEGORY_SEPARATOR = ">"
IMAGE_SEPARATOR = "|"
CSV_COLUMNS = ("sku", "name", "description", "price", "currency", "brand", "category", "stock", "attributes", "images")
FORMATS = ("dummyjson", "csv")


class RowError(ValueError):
    """A row that cannot be imported; ``str(exc)`` is the reason shown in the summary."""


@dataclass(frozen=True)
class CatalogRow:
    """One product as a source describes it; ``images`` are local paths or http(s) URLs."""

    ref: str  # where the row came from ("line 3", "item 7") for the summary
    sku: str
    name: str
    price: Decimal
    description: str = ""
    currency: str = ""
    brand: str = ""
    category: tuple[str, ...] = ()
    stock: int = 0
    rating: Decimal | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    images: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowFailure:
    """A row that could not be imported: where it is in the source (``ref``) and why."""

    ref: str
    sku: str
    reason: str


def detect_format(source: Path) -> str:
    suffix = source.suffix.lower()
    if suffix == ".json":
        return "dummyjson"
    if suffix in {".csv", ".tsv", ".txt"}:
        return "csv"
    raise RowError(f"Cannot tell the format of {source.name}; pass --format dummyjson or --format csv.")


def read_rows(source: Path, *, format: str | None = None) -> Iterator[CatalogRow | RowFailure]:
    """The rows of ``source`` in order; a whole-file problem (not JSON, no header) raises RowError."""
    format = format or detect_format(source)
    if format == "dummyjson":
        return read_dummyjson(source)
    if format == "csv":
        return read_csv(source)
    raise RowError(f"Unknown format {format!r}; use one of: {', '.join(FORMATS)}.")


def read_dummyjson(source: Path) -> Iterator[CatalogRow | RowFailure]:
    """DummyJSON products: a list or ``{"products": [...]}``. SKU: ``sku`` if given, else ``dummyjson-<id>``."""
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RowError(f"{source.name} is not a readable JSON file: {exc}") from exc
    items = data.get("products") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise RowError(f"{source.name} holds neither a list of products nor an object with a 'products' list.")
    for index, item in enumerate(items, start=1):
        ref = f"item {index}"
        sku = ""
        try:
            if not isinstance(item, dict):
                raise RowError("not a JSON object")
            sku = _text(item.get("sku")) or (f"dummyjson-{_text(item.get('id'))}" if item.get("id") is not None else "")
            images = [_text(url) for url in item.get("images") or [] if _text(url)]
            thumbnail = _text(item.get("thumbnail"))
            if thumbnail and thumbnail not in images:
                images.append(thumbnail)
            category = _text(item.get("category"))
            yield CatalogRow(
                ref=ref,
                sku=_required(sku, "id or sku"),
                name=_required(_text(item.get("title") or item.get("name")), "title"),
                description=html_to_text(_text(item.get("description"))),
                price=_price(item.get("price")),
                currency=_text(item.get("currency")),
                brand=_text(item.get("brand")),
                category=(category.replace("-", " ").capitalize(),) if category else (),
                stock=_stock(item.get("stock")),
                rating=_rating(item.get("rating")),
                attributes=_dummyjson_attributes(item),
                images=tuple(images),
            )
        except RowError as exc:
            yield RowFailure(ref=ref, sku=sku, reason=str(exc))


def read_csv(source: Path) -> Iterator[CatalogRow | RowFailure]:
    """The CSV documented in docs/import-csv.md (UTF-8, header row, comma separated)."""
    try:
        handle = source.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise RowError(f"Cannot open {source}: {exc}") from exc
    with handle:
        reader = csv.DictReader(handle)
        header = {name.strip().lower() for name in reader.fieldnames or []}
        missing = {"sku", "name", "price"} - header
        if missing:
            raise RowError(f"{source.name} has no {', '.join(sorted(missing))} column(s); see docs/import-csv.md.")
        for raw in reader:
            ref = f"line {reader.line_num}"
            row = {(key or "").strip().lower(): (value or "").strip() for key, value in raw.items() if key}
            sku = row.get("sku", "")
            try:
                yield CatalogRow(
                    ref=ref,
                    sku=_required(sku, "sku"),
                    name=_required(row.get("name", ""), "name"),
                    description=html_to_text(row.get("description", "")),
                    price=_price(row.get("price")),
                    currency=row.get("currency", ""),
                    brand=row.get("brand", ""),
                    category=tuple(p.strip() for p in row.get("category", "").split(CATEGORY_SEPARATOR) if p.strip()),
                    stock=_stock(row.get("stock") or 0),
                    rating=_rating(row.get("rating") or None),
                    attributes=parse_attributes(row.get("attributes", "")),
                    images=tuple(p.strip() for p in row.get("images", "").split(IMAGE_SEPARATOR) if p.strip()),
                )
            except RowError as exc:
                yield RowFailure(ref=ref, sku=sku, reason=str(exc))


def parse_attributes(value: str) -> dict[str, Any]:
    """A JSON object (``{"colour": "red"}``) or ``key=value;key=value`` pairs (values as text)."""
    value = value.strip()
    if not value:
        return {}
    if value.startswith("{"):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise RowError(f"attributes are not valid JSON: {exc.msg}") from exc
        if not isinstance(parsed, dict):
            raise RowError("attributes must be a JSON object")
        return parsed
    attributes: dict[str, Any] = {}
    for pair in value.split(";"):
        if not pair.strip():
            continue
        key, sep, item = pair.partition("=")
        if not sep or not key.strip():
            raise RowError(f"attribute {pair.strip()!r} is not key=value")
        attributes[key.strip()] = item.strip()
    return attributes


def _dummyjson_attributes(item: dict[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if item.get("discountPercentage") is not None:
        attributes["discount_percentage"] = item["discountPercentage"]
    if item.get("id") is not None:
        attributes["source_id"] = item["id"]
    return attributes


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _required(value: str, name: str) -> str:
    if not value:
        raise RowError(f"{name} is missing")
    return value


def _price(value: object) -> Decimal:
    try:
        price = Decimal(_text(value))
    except InvalidOperation:
        raise RowError(f"price {_text(value)!r} is not a number") from None
    if not price.is_finite() or price < 0:
        raise RowError(f"price {_text(value)!r} must be zero or more")
    return price.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _stock(value: object) -> int:
    try:
        stock = int(Decimal(_text(value)))
    except (InvalidOperation, ValueError):
        raise RowError(f"stock {_text(value)!r} is not a whole number") from None
    if stock < 0:
        raise RowError(f"stock {stock} must be zero or more")
    return stock


def _rating(value: object) -> Decimal | None:
    if value is None or _text(value) == "":
        return None
    try:
        rating = Decimal(_text(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise RowError(f"rating {_text(value)!r} is not a number") from None
    if not Decimal(0) <= rating <= Decimal(5):
        raise RowError(f"rating {rating} must be between 0 and 5")
    return rating
