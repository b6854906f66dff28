from __future__ import annotations

from django.urls import path

from analytics.api.views import SearchInteractionView

app_name = "analytics-api"

urlpatterns = [
    path("search/<uuid:search_id>/clicks", SearchInteractionView.as_view(), name="search-clicks"),
]
