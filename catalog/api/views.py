"""Catalogue endpoints: public reads, staff-only writes through catalog.services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, permissions, status, viewsets
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import services
from catalog.api.errors import ErrorShapeMixin
from catalog.api.serializers import BrandSerializer, CategorySerializer, ProductSerializer, ProductWriteSerializer
from catalog.filters import ProductFilter
from catalog.models import Brand, Category, Product


class IsStaffOrReadOnly(permissions.BasePermission):
    """Anyone reads; only staff (``is_staff``) write."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


@extend_schema_view(
    list=extend_schema(summary="List products (filter, sort, paginate)"),
    retrieve=extend_schema(summary="One product"),
    create=extend_schema(
        summary="Create a product with photos (staff)",
        request=ProductWriteSerializer,
        responses={201: ProductSerializer},
    ),
    update=extend_schema(summary="Replace a product's fields (staff)", request=ProductWriteSerializer),
    partial_update=extend_schema(summary="Change some fields or add photos (staff)", request=ProductWriteSerializer),
    destroy=extend_schema(summary="Delete a product (staff)"),
)
class ProductViewSet(ErrorShapeMixin, viewsets.ModelViewSet):
    serializer_class = ProductSerializer
    permission_classes = [IsStaffOrReadOnly]
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self) -> QuerySet[Product]:
        products = Product.objects.with_listing_data()
        user = self.request.user
        return products if user.is_authenticated and user.is_staff else products.active()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _validated(request, partial=False)
        images = [_upload(file) for file in data.pop("images", [])]
        product = services.product_create(**data, images=images)
        return Response(self._read(product), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        product = self.get_object()
        data = _validated(request, partial=kwargs.get("partial", False))
        images = [_upload(file) for file in data.pop("images", [])]
        if "sku" in data and data.pop("sku") != product.sku:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"sku": ["The SKU of a product cannot change."]})
        product = services.product_update(product=product, **data)
        for upload in images:
            services.product_image_add(product=product, upload=upload)
        return Response(self._read(product))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.product_delete(product=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _read(self, product: Product) -> dict[str, Any]:
        fresh = Product.objects.with_listing_data().get(pk=product.pk)
        return ProductSerializer(fresh, context=self.get_serializer_context()).data


def _validated(request: Request, *, partial: bool) -> dict[str, Any]:
    serializer = ProductWriteSerializer(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _upload(file: Any) -> services.ImageUpload:
    return services.ImageUpload(file=file, name=getattr(file, "name", "photo") or "photo")


@extend_schema(summary="All categories (a tree: follow ``parent``)")
class CategoryListView(ErrorShapeMixin, generics.ListAPIView):
    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    pagination_class = None
    filter_backends: list[Any] = []


@extend_schema(summary="All brands")
class BrandListView(ErrorShapeMixin, generics.ListAPIView):
    queryset = Brand.objects.all()
    serializer_class = BrandSerializer
    pagination_class = None
    filter_backends: list[Any] = []
