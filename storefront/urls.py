"""Storefront URLs: the catalogue, product pages and search by photo."""

from __future__ import annotations

from django.urls import path

from storefront import views

app_name = "storefront"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("search/", views.photo_search, name="search"),
    path("search/photo/<str:sha256>/", views.query_photo, name="query-photo"),
    path("products/<slug:slug>/", views.product_detail, name="product-detail"),
]
