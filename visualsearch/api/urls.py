from __future__ import annotations

from django.urls import path

from visualsearch.api.views import ImageSearchView, SimilarProductsView, TextSearchView

app_name = "search-api"

urlpatterns = [
    path("search/image", ImageSearchView.as_view(), name="search-image"),
    path("search/text", TextSearchView.as_view(), name="search-text"),
    path("products/<int:pk>/similar/", SimilarProductsView.as_view(), name="product-similar"),
]
