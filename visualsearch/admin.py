"""Embedding spaces in the admin: coverage of each model version, and the switch between them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from visualsearch import services
from visualsearch.models import EmbeddingSpace, SpaceStatus


@admin.register(EmbeddingSpace)
class EmbeddingSpaceAdmin(admin.ModelAdmin):
    list_display = ["id", "encoder", "modality", "model_version", "dimension", "status", "coverage", "activated_at"]
    list_filter = ["encoder", "modality", "status"]
    readonly_fields = [
        "encoder", "model_name", "model_version", "dimension", "modality", "status", "created_at",
        "activated_at", "coverage",
    ]  # fmt: skip
    actions = ["activate", "promote_complete", "prune"]
    ordering = ["encoder", "modality", "-created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # spaces are opened by the indexer for an encoder's model version

    @admin.display(description="Coverage")
    def coverage(self, obj: EmbeddingSpace) -> str:
        coverage = services.space_coverage(space=obj)
        return f"{coverage.covered} / {coverage.required} ({coverage.percent}%)"

    @admin.action(description="Activate (search uses it; the current one is retired)")
    def activate(self, request: HttpRequest, queryset: QuerySet[EmbeddingSpace]) -> None:
        for space in queryset:
            coverage = services.space_coverage(space=space)
            services.space_activate(space=space)
            level = messages.SUCCESS if coverage.complete else messages.WARNING
            self.message_user(request, f"Activated {space}; it covers {coverage.percent}% of the catalogue.", level)

    @admin.action(description="Activate building spaces that cover the catalogue")
    def promote_complete(self, request: HttpRequest, queryset: QuerySet[EmbeddingSpace]) -> None:
        promoted = services.spaces_promote_complete()
        self.message_user(request, f"Activated {len(promoted)} complete space(s).")

    @admin.action(description="Prune (delete retired spaces and their vectors)")
    def prune(self, request: HttpRequest, queryset: QuerySet[EmbeddingSpace]) -> None:
        removed = 0
        for space in queryset:
            if space.status != SpaceStatus.RETIRED:
                self.message_user(request, f"{space} is not retired; it was kept.", messages.WARNING)
                continue
            removed += services.space_prune(space=space)
        self.message_user(request, f"Removed {removed} vectors.")
