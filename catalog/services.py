"""Writes to the catalogue. Admin, API, importers, commands and tasks all come through here,
so validation and the ``catalog_changed`` announcement follow every change the same way."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import slugify

from catalog.changes import announce
from catalog.imaging import ImageRejected, image_info
from catalog.models import SEARCH_TEXT_FIELDS, Brand, Category, IndexingStatus, Product, ProductImage

UPDATABLE_FIELDS = frozenset(
    {"name", "description", "category", "brand", "price", "currency", "stock", "rating", "is_active", "attributes"}
)


@dataclass(frozen=True)
class ImageUpload:
    """A photo to attach: a file (or raw bytes) plus its alt text."""

    file: File | BinaryIO | bytes
    name: str = "photo"
    alt_text: str = ""


def category_ensure_path(*, names: Sequence[str]) -> Category:
    """Return the category at ``names`` (root first), creating missing levels."""
    parent: Category | None = None
    path = ""
    for raw in names:
        name = raw.strip()
        slug = slugify(name)
        if not slug:
            raise ValidationError({"category": f"Category name {raw!r} has no letters or digits."})
        path = f"{path}{slug}/"
        parent, _ = Category.objects.get_or_create(path=path, defaults={"name": name, "slug": slug, "parent": parent})
    if parent is None:
        raise ValidationError({"category": "A category path needs at least one name."})
    return parent


def category_create(*, name: str, parent: Category | None = None) -> Category:
    slug = slugify(name)
    category = Category(name=name, slug=slug, parent=parent, path=f"{parent.path if parent else ''}{slug}/")
    category.full_clean()
    category.save()
    return category


def brand_ensure(*, name: str) -> Brand:
    name = name.strip()
    slug = slugify(name)
    if not slug:
        raise ValidationError({"brand": f"Brand name {name!r} has no letters or digits."})
    brand, _ = Brand.objects.get_or_create(slug=slug, defaults={"name": name})
    return brand


@transaction.atomic
def product_create(
    *,
    sku: str,
    name: str,
    price: Decimal,
    currency: str | None = None,
    description: str = "",
    category: Category | None = None,
    brand: Brand | None = None,
    stock: int = 0,
    rating: Decimal | None = None,
    is_active: bool = True,
    attributes: dict[str, Any] | None = None,
    images: Sequence[ImageUpload] = (),
) -> Product:
    product = Product(
        sku=sku.strip(),
        name=name.strip(),
        slug=_unique_slug(name, sku),
        description=description,
        category=category,
        brand=brand,
        price=Decimal(price),
        stock=stock,
        rating=rating,
        is_active=is_active,
        attributes=attributes or {},
    )
    if currency:
        product.currency = currency.upper()
    product.full_clean()
    product.save()
    for upload in images:
        product_image_add(product=product, upload=upload)
    announce(product_ids=[product.pk])
    return product


@transaction.atomic
def product_update(*, product: Product, **changes: Any) -> Product:
    """Apply ``changes`` (a subset of UPDATABLE_FIELDS); announce the product when its search text changed."""
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise TypeError(f"product_update() cannot change: {', '.join(sorted(unknown))}")
    changed = {field for field, value in changes.items() if getattr(product, field) != value}
    if not changed:
        return product
    for field in changed:
        setattr(product, field, changes[field])
    if "currency" in changed:
        product.currency = product.currency.upper()
    product.full_clean()
    product.save()
    if changed & SEARCH_TEXT_FIELDS:
        announce(product_ids=[product.pk])
    return product


@transaction.atomic
def product_delete(*, product: Product) -> None:
    product.delete()  # photos cascade; their files go after commit (catalog.signals)


def product_image_add(*, product: Product, upload: ImageUpload, position: int | None = None) -> ProductImage:
    """Validate and store a photo; the same bytes twice on one product return the existing row.
    Hashed before decoding, so re-adding a known photo (a re-import) decodes nothing."""
    content = _read_bytes(upload.file)
    existing = product.images.filter(sha256=hashlib.sha256(content).hexdigest()).first()
    if existing is not None:
        return existing
    try:
        info = image_info(content)
    except ImageRejected as exc:
        raise ValidationError({"image": ValidationError(str(exc), code=exc.code)}) from exc
    if position is None:
        last = product.images.order_by("-position").values_list("position", flat=True).first()
        position = 0 if last is None else last + 1
    image = ProductImage(
        product=product,
        position=position,
        alt_text=upload.alt_text[:255],
        sha256=info.sha256,
        width=info.width,
        height=info.height,
        indexing_status=IndexingStatus.PENDING,
    )
    extension = (info.format or "jpeg").lower().replace("jpeg", "jpg")
    stem = slugify(upload.name.rsplit(".", 1)[0]) or "photo"
    image.image.save(f"{stem}-{info.sha256[:12]}.{extension}", ContentFile(content), save=False)
    try:
        with transaction.atomic():
            image.full_clean(exclude=["image"])
            image.save()
    except Exception:
        if image.image.name:
            image.image.storage.delete(image.image.name)  # no orphan file for a row that never existed
        raise
    announce(image_ids=[image.pk])
    return image


def product_image_update(
    *, image: ProductImage, alt_text: str | None = None, position: int | None = None
) -> ProductImage:
    if alt_text is not None:
        image.alt_text = alt_text
    if position is not None:
        image.position = position
    image.full_clean(exclude=["image"])
    image.save(update_fields=["alt_text", "position"])
    return image


def product_image_delete(*, image: ProductImage) -> None:
    """Delete the row now; the file goes once the deletion commits (catalog.signals)."""
    image.delete()


def product_images_reindex(*, products: Iterable[Product]) -> int:
    """Mark the products' photos pending and announce them for recomputing (admin action, API)."""
    products = list(products)
    ids = list(ProductImage.objects.filter(product__in=products).values_list("pk", flat=True))
    ProductImage.objects.filter(pk__in=ids).update(indexing_status=IndexingStatus.PENDING, indexing_error="")
    announce(image_ids=ids, product_ids=[p.pk for p in products], force=True)
    return len(ids)


def _read_bytes(source: File | BinaryIO | bytes) -> bytes:
    if isinstance(source, bytes):
        return source
    if hasattr(source, "seek"):
        source.seek(0)
    data = source.read()
    if hasattr(source, "seek"):
        source.seek(0)
    return bytes(data)


def _unique_slug(name: str, sku: str) -> str:
    base = (slugify(name) or slugify(sku) or "product")[:200]
    if not Product.objects.filter(slug=base).exists():
        return base
    candidate = f"{base}-{slugify(sku)}"[:280]
    suffix = 2
    while Product.objects.filter(slug=candidate).exists():
        candidate = f"{base}-{slugify(sku)}-{suffix}"[:280]
        suffix += 1
    return candidate
