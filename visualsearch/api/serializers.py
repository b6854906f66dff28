"""Search request and response shapes; the search itself is visualsearch.selectors.search_products."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from catalog.api.serializers import ProductSerializer, absolute_media_url, absolute_thumbnail_url
from visualsearch.search.ordering import RELEVANCE, SORTS
from visualsearch.search.types import SearchHit, SearchResult


def _limit_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1, max_value=settings.SHOPLENS_SEARCH_MAX_LIMIT, default=24, help_text="Number of results."
    )


class FilterParamsSerializer(serializers.Serializer):
    """Documentation of the filters (validated by catalog.filters.ProductFilter)."""

    category = serializers.IntegerField(required=False, help_text="Category id; includes sub-categories.")
    brand = serializers.ListField(child=serializers.IntegerField(), required=False, help_text="Brand id (repeatable).")
    price_min = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    price_max = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    in_stock = serializers.BooleanField(required=False, allow_null=True, default=None)


class PageParamsSerializer(serializers.Serializer):
    """Sorting and paging: ``offset`` + ``limit`` reach at most SHOPLENS_SEARCH_MAX_LIMIT results."""

    offset = serializers.IntegerField(min_value=0, default=0, help_text="Results to skip (for more results).")
    sort = serializers.ChoiceField(
        choices=list(SORTS), default=RELEVANCE, help_text="relevance, or price, -price, -rating among the matches."
    )

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if attrs.get("offset", 0) + attrs.get("limit", 24) > settings.SHOPLENS_SEARCH_MAX_LIMIT:
            raise serializers.ValidationError(
                {"offset": [f"offset + limit must be at most {settings.SHOPLENS_SEARCH_MAX_LIMIT}."]}
            )
        return attrs


class SimilarParamsSerializer(PageParamsSerializer, FilterParamsSerializer):
    limit = _limit_field()


class TextSearchParamsSerializer(SimilarParamsSerializer):
    q = serializers.CharField(max_length=500, help_text="What to look for, e.g. 'red leather boots'.")


class ImageSearchRequestSerializer(PageParamsSerializer, FilterParamsSerializer):
    images = serializers.ListField(
        child=serializers.FileField(), min_length=1, max_length=8, help_text="One or more photos (more like these)."
    )
    negative_images = serializers.ListField(
        child=serializers.FileField(), required=False, max_length=8, help_text="Photos of what not to find."
    )
    text = serializers.CharField(required=False, allow_blank=True, max_length=500, help_text="e.g. 'but in red'.")
    crop = serializers.ListField(
        child=serializers.CharField(allow_blank=True, max_length=80),
        required=False,
        max_length=8,
        help_text="Per photo, in order: x,y,w,h in pixels, or fractions of the photo when all are at most 1; "
        "empty for the whole photo.",
    )
    limit = _limit_field()


class SearchHitSerializer(serializers.Serializer):
    product = ProductSerializer()
    score = serializers.FloatField(
        help_text="Weighted sum of the signals' cosine similarities (text: the reciprocal rank fusion score)."
    )
    match_percent = serializers.IntegerField(
        help_text="0-100; means the same for every query of one kind and never rises down the list."
    )
    below_floor = serializers.BooleanField(
        help_text="Under the relevance floor of this kind of query: not a match, only the closest there is."
    )
    matched_image_url = serializers.SerializerMethodField()
    matched_thumbnail_url = serializers.SerializerMethodField(help_text="320 px JPEG of the matched photo.")
    signals = serializers.DictField(
        child=serializers.FloatField(),
        help_text="Cosine similarity per vector signal; text search adds fulltext and trigram (0-1).",
    )

    def get_matched_image_url(self, hit: SearchHit) -> str | None:
        return absolute_media_url(self.context.get("request"), hit.matched_image)

    def get_matched_thumbnail_url(self, hit: SearchHit) -> str | None:
        return absolute_thumbnail_url(self.context.get("request"), hit.matched_image)


class SearchResultSerializer(serializers.Serializer):
    search_id = serializers.UUIDField(
        help_text="Names this answer: report clicks on its results to search/{id}/clicks."
    )
    query_time_ms = serializers.FloatField()
    kind = serializers.CharField(help_text="image, text, image_text or product.")
    encoders = serializers.ListField(child=serializers.CharField(), help_text="Encoders that contributed.")
    count = serializers.SerializerMethodField()
    relevance_floor = serializers.IntegerField(help_text="Match percent below which a hit is not a match.")
    match_count = serializers.SerializerMethodField(help_text="Results at or above the floor (they come first).")
    results = SearchHitSerializer(many=True, source="hits")

    def get_count(self, result: SearchResult) -> int:
        return len(result.hits)

    def get_match_count(self, result: SearchResult) -> int:
        return len(result.matches)
