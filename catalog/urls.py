"""Storefront URLs: the catalogue and product pages."""

from __future__ import annotations

from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("products/<slug:slug>/", views.product_detail, name="product-detail"),
]
