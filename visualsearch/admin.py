"""Search in the admin: the product admin gains find-similar (duplicates), a photo search and
re-indexing; embedding spaces show their coverage and the switch between model versions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from catalog import services as catalog_services
from catalog.admin import ProductAdmin
from catalog.criteria import ProductCriteria
from catalog.models import Product
from visualsearch import spaces
from visualsearch.cards import ResultCard, hit_cards, run_search
from visualsearch.forms import PhotoSearchForm
from visualsearch.models import EmbeddingSpace, SpaceStatus
from visualsearch.search.types import SearchQuery

ADMIN_SEARCH_LIMIT = 24


class ProductSearchAdmin(ProductAdmin):
    """``ProductAdmin`` with the search side's tools; inactive products are searched too."""

    list_display = [*ProductAdmin.list_display, "find_similar"]
    readonly_fields = [*ProductAdmin.readonly_fields, "find_similar"]
    actions = ["reindex_selected"]
    change_list_template = "visualsearch/admin/product_change_list.html"

    @admin.display(description="Similar")
    def find_similar(self, obj: Product) -> str:
        if not obj.pk:
            return "—"
        url = reverse("admin:catalog_product_similar", args=[obj.pk])
        return format_html('<a href="{}">Find similar<span class="visually-hidden"> to {}</span></a>', url, obj.name)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<int:product_id>/similar/", view(self.similar_view), name="catalog_product_similar"),
            path("photo-search/", view(self.photo_search_view), name="catalog_product_photo_search"),
            *super().get_urls(),
        ]

    def similar_view(self, request: HttpRequest, product_id: int) -> HttpResponse:
        """Products that look like this one (inactive ones too): duplicates show up first."""
        product = get_object_or_404(Product, pk=product_id)
        result, error = run_search(
            query=SearchQuery(product_id=product.pk),
            criteria=ProductCriteria(active_only=False),
            limit=ADMIN_SEARCH_LIMIT,
        )
        title = f"Products similar to “{product.name}”"
        return self._similar_response(request, title, hit_cards(result.hits) if result else [], error, product)

    def photo_search_view(self, request: HttpRequest) -> HttpResponse:
        """Search by photo from the product list, to spot a duplicate before adding a product."""
        posted = request.method == "POST"
        form = PhotoSearchForm(request.POST if posted else None, request.FILES if posted else None)
        cards: list[ResultCard] = []
        error = ""
        if posted and form.is_valid():
            criteria = ProductCriteria(active_only=False)
            result, error = run_search(query=form.search_query(), criteria=criteria, limit=ADMIN_SEARCH_LIMIT)
            cards = hit_cards(result.hits) if result else []
        elif form.errors:
            error = " ".join(str(message) for messages_ in form.errors.values() for message in messages_)
        return self._similar_response(request, "Products that look like your photo", cards, error, None, form)

    def _similar_response(self, request: HttpRequest, title: str, cards: list[ResultCard], error: str,
                          product: Product | None, form: Any = None) -> TemplateResponse:  # fmt: skip
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "cards": cards,
            "search_error": error,
            "product": product,
            "form": form,
            "searched": request.method == "POST" or product is not None,
        }
        return TemplateResponse(request, "visualsearch/admin/similar.html", context)

    @admin.action(description="Re-index photos of selected products")
    def reindex_selected(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        count = catalog_services.product_images_reindex(products=list(queryset))
        self.message_user(request, f"Queued {count} photo(s) for indexing.", messages.SUCCESS)


admin.site.unregister(Product)
admin.site.register(Product, ProductSearchAdmin)


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
        coverage = spaces.space_coverage(space=obj)
        return f"{coverage.covered} / {coverage.required} ({coverage.percent}%)"

    @admin.action(description="Activate (search uses it; the current one is retired)")
    def activate(self, request: HttpRequest, queryset: QuerySet[EmbeddingSpace]) -> None:
        for space in queryset:
            coverage = spaces.space_coverage(space=space)
            spaces.space_activate(space=space)
            level = messages.SUCCESS if coverage.complete else messages.WARNING
            self.message_user(request, f"Activated {space}; it covers {coverage.percent}% of the catalogue.", level)

    @admin.action(description="Activate building spaces that cover the catalogue")
    def promote_complete(self, request: HttpRequest, queryset: QuerySet[EmbeddingSpace]) -> None:
        promoted = spaces.spaces_promote_complete()
        self.message_user(request, f"Activated {len(promoted)} complete space(s).")

    @admin.action(description="Prune (delete retired spaces and their vectors)")
    def prune(self, request: HttpRequest, queryset: QuerySet[EmbeddingSpace]) -> None:
        removed = 0
        for space in queryset:
            if space.status != SpaceStatus.RETIRED:
                self.message_user(request, f"{space} is not retired; it was kept.", messages.WARNING)
                continue
            removed += spaces.space_prune(space=space)
        self.message_user(request, f"Removed {removed} vectors.")
