"""Shapes of catalogue rows in the API. Writes are validated here and carried out by catalog.services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.request import Request

from catalog import thumbnails
from catalog.models import Brand, Category, Product, ProductImage

MAX_STOCK = 2_147_483_647  # PostgreSQL integer, the column's type


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "path", "parent"]


class BrandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = ["id", "name", "slug"]


class ThumbnailSerializer(serializers.Serializer):
    url = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    format = serializers.ChoiceField(choices=["webp", "jpeg"])


class ProductImageSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField(help_text="320 px JPEG; null until the photo is indexed.")
    thumbnails = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = [
            "id",
            "url",
            "thumbnail_url",
            "thumbnails",
            "alt_text",
            "width",
            "height",
            "position",
            "indexing_status",
        ]

    def get_url(self, image: ProductImage) -> str | None:
        return absolute_media_url(self.context.get("request"), image)

    def get_thumbnail_url(self, image: ProductImage) -> str | None:
        return absolute_thumbnail_url(self.context.get("request"), image)

    @extend_schema_field(ThumbnailSerializer(many=True))
    def get_thumbnails(self, image: ProductImage) -> list[dict[str, object]]:
        """Every width in WebP and JPEG (for srcset); empty until the photo is indexed."""
        if not thumbnails.has_thumbnails(image):
            return []
        request = self.context.get("request")
        return [
            {"url": _absolute(request, t.url), "width": t.width, "height": t.height, "format": t.format}
            for kind in thumbnails.FORMATS
            for t in thumbnails.thumbnails(image, kind)
        ]


class CategoryBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "path"]


class ProductSerializer(serializers.ModelSerializer):
    """A product as shoppers see it (load with ``Product.objects.with_listing_data()``)."""

    category = CategoryBriefSerializer(read_only=True, allow_null=True)
    brand = BrandSerializer(read_only=True, allow_null=True)
    in_stock = serializers.BooleanField(read_only=True)
    images = ProductImageSerializer(many=True, read_only=True)
    thumbnail_url = serializers.SerializerMethodField(help_text="The first photo's 320 px JPEG thumbnail.")

    class Meta:
        model = Product
        fields = [
            "id", "sku", "name", "slug", "description", "category", "brand", "price", "currency",
            "stock", "in_stock", "rating", "is_active", "attributes", "images", "thumbnail_url",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_thumbnail_url(self, product: Product) -> str | None:
        first = next(iter(product.images.all()), None)
        return absolute_thumbnail_url(self.context.get("request"), first)


class OptionalBooleanField(serializers.BooleanField):
    """A boolean that, left out of a multipart form, is left out (the service's default applies)
    instead of DRF's HTML-checkbox reading of a missing field as false."""

    default_empty_html = empty


@extend_schema_field({"type": "object", "additionalProperties": True})
class JSONObjectField(serializers.JSONField):
    """A JSON object (never null, a list or a number, also not when sent as the multipart text
    "null") without U+0000, which PostgreSQL's jsonb cannot store."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError('Must be a JSON object, e.g. {"colour": "red"}.')
        if _holds_null_character(value):
            raise serializers.ValidationError("Null characters are not allowed.")
        return value


class ProductWriteSerializer(serializers.Serializer):
    """Input of product create (all required fields) and update (any subset). Every field refuses
    null and odd values itself, so nothing invalid reaches the database (a 400 naming the field)."""

    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    brand = serializers.PrimaryKeyRelatedField(queryset=Brand.objects.all(), required=False, allow_null=True)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$", required=False, error_messages={"invalid": "Use a three-letter currency code, e.g. EUR."}
    )
    stock = serializers.IntegerField(min_value=0, max_value=MAX_STOCK, required=False)
    rating = serializers.DecimalField(
        max_digits=3, decimal_places=2, min_value=0, max_value=5, required=False, allow_null=True
    )
    is_active = OptionalBooleanField(required=False)
    attributes = JSONObjectField(required=False, help_text='A JSON object, e.g. {"colour": "red"}.')
    images = serializers.ListField(
        child=serializers.FileField(), required=False, write_only=True, help_text="Photos to add (multipart)."
    )

    def validate_images(self, files: list) -> list:
        limit = settings.SHOPLENS_MAX_UPLOAD_BYTES
        for upload in files:
            if upload.size > limit:
                from catalog.api.errors import ImageNotAccepted
                from catalog.imaging import ImageRejected

                raise ImageNotAccepted(
                    ImageRejected(
                        f"The file is too large; the limit is {limit / 1024 / 1024:.1f} MB.", code="too_large"
                    )
                )
        return files


def _holds_null_character(value: Any) -> bool:
    """PostgreSQL's jsonb cannot store U+0000 in a key or a string."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_null_character(key) or _holds_null_character(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_null_character(item) for item in value)
    return False


def absolute_media_url(request: Request | None, image: ProductImage | None) -> str | None:
    if image is None or not image.image:
        return None
    return _absolute(request, image.image.url)


def absolute_thumbnail_url(request: Request | None, image: ProductImage | None) -> str | None:
    url = thumbnails.thumbnail_url(image) if image is not None else None
    return _absolute(request, url) if url else None


def _absolute(request: Request | None, url: str) -> str:
    return request.build_absolute_uri(url) if request is not None else url
