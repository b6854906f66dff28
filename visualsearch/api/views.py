"""Search endpoints. They parse and validate input, call ``search_products`` and serialise the result."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.api.errors import ErrorShapeMixin, ImageNotAccepted, ServiceUnavailable
from catalog.criteria import ProductCriteria
from catalog.filters import ProductFilter
from catalog.imaging import ImageRejected
from catalog.models import Product
from visualsearch.api.serializers import (
    ImageSearchRequestSerializer,
    SearchResultSerializer,
    SimilarParamsSerializer,
    TextSearchParamsSerializer,
)
from visualsearch.api.throttling import SEARCH_THROTTLES
from visualsearch.search.crop import CropInvalid, cropped_photo, parse_crop
from visualsearch.search.events import API, announce_search
from visualsearch.search.ordering import result_page
from visualsearch.search.types import EmptyQuery, SearchQuery, SearchResult, SearchUnavailable
from visualsearch.selectors import search_products


class SearchView(ErrorShapeMixin, APIView):
    permission_classes = [permissions.AllowAny]
    throttle_classes = list(SEARCH_THROTTLES)

    def respond(
        self, request: Request, *, query: SearchQuery, criteria: ProductCriteria, params: dict[str, Any]
    ) -> Response:
        offset, limit = params["offset"], params["limit"]
        try:
            result = search_products(query=query, criteria=criteria, limit=offset + limit)
            result = result_page(result, sort=params["sort"], offset=offset, limit=limit)
        except EmptyQuery as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from exc
        except SearchUnavailable as exc:
            raise ServiceUnavailable() from exc
        announce_search(request=request, channel=API, query=query, criteria=criteria, limit=limit, result=result)
        return Response(_serialise(result, request))


class ImageSearchView(SearchView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Search by photo(s), optionally with negative photos and text",
        request={"multipart/form-data": ImageSearchRequestSerializer},
        responses=SearchResultSerializer,
    )
    def post(self, request: Request) -> Response:
        params = _valid(ImageSearchRequestSerializer, request.data)
        crops = list(params.get("crop", []))
        if len(crops) > len(params["images"]):
            raise ValidationError({"crop": ["Give at most one crop per photo."]})
        query = SearchQuery(
            images=tuple(
                _cropped(_read_upload(file, "images"), crops[n] if n < len(crops) else "")
                for n, file in enumerate(params["images"])
            ),
            negative_images=tuple(_read_upload(file, "negative_images") for file in params.get("negative_images", [])),
            text=params.get("text", "").strip(),
        )
        return self.respond(request, query=query, criteria=_criteria(request.data), params=params)


class TextSearchView(SearchView):
    @extend_schema(summary="Search by text", parameters=[TextSearchParamsSerializer], responses=SearchResultSerializer)
    def get(self, request: Request) -> Response:
        params = _valid(TextSearchParamsSerializer, request.query_params)
        if not params["q"].strip():
            raise ValidationError({"q": ["Type something to search for."]})
        query = SearchQuery(text=params["q"].strip())
        return self.respond(request, query=query, criteria=_criteria(request.query_params), params=params)


class SimilarProductsView(SearchView):
    @extend_schema(
        summary="Products similar to this one (the product itself excluded)",
        parameters=[SimilarParamsSerializer],
        responses=SearchResultSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        params = _valid(SimilarParamsSerializer, request.query_params)
        product = get_object_or_404(Product.objects.active(), pk=pk)
        query = SearchQuery(product_id=product.pk)
        return self.respond(request, query=query, criteria=_criteria(request.query_params), params=params)


def _valid(serializer_class: type, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _criteria(data: Any) -> ProductCriteria:
    filterset = ProductFilter(data=data, queryset=Product.objects.none())
    if not filterset.is_valid():
        raise ValidationError({name: list(messages) for name, messages in filterset.errors.items()})
    return filterset.criteria()


def _cropped(content: bytes, crop_text: str) -> bytes:
    try:
        return cropped_photo(content, parse_crop(crop_text))
    except CropInvalid as exc:
        raise ValidationError({"crop": [str(exc)]}) from exc
    except ImageRejected as exc:
        raise ImageNotAccepted(exc, field="images") from exc


def _read_upload(file: Any, field: str) -> bytes:
    limit = int(settings.SHOPLENS_MAX_UPLOAD_BYTES)
    if file.size is not None and file.size > limit:
        message = f"The file is too large ({file.size / 1048576:.1f} MB); the limit is {limit / 1048576:.1f} MB."
        raise ImageNotAccepted(ImageRejected(message, code="too_large"), field=field)
    file.seek(0)
    return bytes(file.read())


def _serialise(result: SearchResult, request: Request) -> dict[str, Any]:
    return SearchResultSerializer(result, context={"request": request}).data
