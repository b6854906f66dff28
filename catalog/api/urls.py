from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from catalog.api.views import BrandListView, CategoryListView, ProductViewSet

app_name = "catalog-api"

router = SimpleRouter()
router.register("products", ProductViewSet, basename="product")

urlpatterns = [
    path("categories/", CategoryListView.as_view(), name="category-list"),
    path("brands/", BrandListView.as_view(), name="brand-list"),
    *router.urls,
]
