"""Recorded searches in the admin, read-only; the dashboard is linked from the changelist."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from analytics.models import ResultInteraction, SearchEvent


class ResultInteractionInline(admin.TabularInline):
    model = ResultInteraction
    extra = 0
    can_delete = False
    fields = readonly_fields = ("created_at", "type", "position", "product_id", "channel")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SearchEvent)
class SearchEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "channel", "text", "result_count", "top_match_percent", "total_ms"]
    list_filter = ["kind", "channel", "created_at"]
    search_fields = ["text", "photo_sha256s"]
    date_hierarchy = "created_at"
    inlines = [ResultInteractionInline]
    exclude = ["thumbnail"]
    change_list_template = "analytics/searchevent_change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a record of what happened; only retention (or a delete) removes it

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in SearchEvent._meta.fields if field.name != "thumbnail"] + ["query_photo"]

    @admin.display(description="Query photo")
    def query_photo(self, obj: SearchEvent) -> str:
        if not SearchEvent.objects.filter(pk=obj.pk, thumbnail__isnull=False).exists():
            return "not kept"
        from django.urls import reverse

        return format_html(
            '<img src="{}" alt="query photo" width="160">', reverse("search-query-thumbnail", args=[obj.pk])
        )
