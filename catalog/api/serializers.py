"""Shapes of catalogue rows in the API. Writes are validated here and carried out by catalog.services."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers
from rest_framework.request import Request

from catalog.models import Brand, Category, Product, ProductImage


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "path", "parent"]


class BrandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = ["id", "name", "slug"]


class ProductImageSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ["id", "url", "alt_text", "width", "height", "position", "indexing_status"]

    def get_url(self, image: ProductImage) -> str | None:
        return absolute_media_url(self.context.get("request"), image)


class CategoryBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "path"]


class ProductSerializer(serializers.ModelSerializer):
    """A product as shoppers see it (load with ``Product.objects.with_listing_data()``)."""

    category = CategoryBriefSerializer(read_only=True)
    brand = BrandSerializer(read_only=True)
    in_stock = serializers.BooleanField(read_only=True)
    images = ProductImageSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id", "sku", "name", "slug", "description", "category", "brand", "price", "currency",
            "stock", "in_stock", "rating", "is_active", "attributes", "images", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ProductWriteSerializer(serializers.Serializer):
    """Input of product create (all required fields) and update (any subset)."""

    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    brand = serializers.PrimaryKeyRelatedField(queryset=Brand.objects.all(), required=False, allow_null=True)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = serializers.CharField(max_length=3, required=False)
    stock = serializers.IntegerField(min_value=0, required=False)
    rating = serializers.DecimalField(
        max_digits=3, decimal_places=2, min_value=0, max_value=5, required=False, allow_null=True
    )
    is_active = serializers.BooleanField(required=False)
    attributes = serializers.JSONField(required=False)
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


def absolute_media_url(request: Request | None, image: ProductImage | None) -> str | None:
    if image is None or not image.image:
        return None
    url = image.image.url
    return request.build_absolute_uri(url) if request is not None else url
