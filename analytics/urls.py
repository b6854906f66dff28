"""The click redirect (named ``search-click``, the name search's result links look for) and the dashboard."""

from __future__ import annotations

from django.urls import path

from analytics import views
from visualsearch.search.events import CLICK_URL_NAME

urlpatterns = [
    path("r/<uuid:search_id>/<int:position>/<int:product_id>/", views.result_click, name=CLICK_URL_NAME),
    path("admin/search-analytics/", views.search_dashboard, name="search-dashboard"),
    path(
        "admin/search-analytics/thumbnails/<uuid:search_id>.jpg", views.query_thumbnail, name="search-query-thumbnail"
    ),
]
