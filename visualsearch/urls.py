"""The search-by-photo page."""

from __future__ import annotations

from django.urls import path

from visualsearch import views

app_name = "visualsearch"

urlpatterns = [
    path("", views.photo_search, name="search"),
]
