"""Catalogue admin. Forms validate; every write goes through catalog.services.

The search app extends ``ProductAdmin`` with find-similar, photo search and re-indexing
(visualsearch.admin)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminFileWidget
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from catalog import services
from catalog.imaging import ImageRejected, image_info
from catalog.models import Brand, Category, IndexingStatus, Product, ProductImage
from catalog.thumbnails import thumbnail_url


class ProductImageForm(forms.ModelForm):
    # A plain file field: our validation (catalog.imaging) gives shoppers' and admins'
    # errors their precise reason instead of Django's generic "Upload a valid image".
    image = forms.FileField(widget=AdminFileWidget)

    class Meta:
        model = ProductImage
        fields = ["image", "alt_text", "position"]

    def clean_image(self) -> Any:
        upload = self.cleaned_data.get("image")
        if upload and upload is not getattr(self.instance, "image", None) and hasattr(upload, "read"):
            try:
                image_info(upload)
            except ImageRejected as exc:
                raise forms.ValidationError(str(exc), code=exc.code) from exc
        return upload


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    form = ProductImageForm
    extra = 1
    fields = ["preview", "image", "alt_text", "position", "size", "indexing_status", "indexing_error"]
    readonly_fields = ["preview", "size", "indexing_status", "indexing_error"]

    @admin.display(description="Preview")
    def preview(self, obj: ProductImage) -> str:
        if not obj.pk or not obj.image:
            return "—"
        url = thumbnail_url(obj, 160) or obj.image.url
        return format_html('<img src="{}" alt="{}" style="max-height:80px;max-width:120px">', url, obj.description)

    @admin.display(description="Size")
    def size(self, obj: ProductImage) -> str:
        return f"{obj.width}×{obj.height}" if obj.pk else "—"


class InStockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "in_stock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "In stock"), ("no", "Out of stock")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        if self.value() == "yes":
            return queryset.filter(stock__gt=0)
        if self.value() == "no":
            return queryset.filter(stock=0)
        return queryset


class IndexingStatusFilter(admin.SimpleListFilter):
    title = "indexing status"
    parameter_name = "indexing"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("failed", "Some photos failed"),
            ("pending", "Some photos pending"),
            ("ready", "All photos ready"),
            ("no_photos", "No photos"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        value = self.value()
        if value in (IndexingStatus.FAILED, IndexingStatus.PENDING):
            return queryset.filter(images__indexing_status=value).distinct()
        if value == IndexingStatus.READY:
            return (
                queryset.filter(images__isnull=False)
                .exclude(images__indexing_status__in=[IndexingStatus.PENDING, IndexingStatus.FAILED])
                .distinct()
            )
        if value == "no_photos":
            return queryset.filter(images__isnull=True)
        return queryset


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = [
            "sku", "name", "description", "category", "brand", "price", "currency",
            "stock", "rating", "is_active", "attributes",
        ]  # fmt: skip


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductForm
    inlines = [ProductImageInline]
    list_display = [
        "thumbnail", "name", "sku", "category", "brand", "price", "stock", "is_active", "indexing",
    ]  # fmt: skip
    list_display_links = ["thumbnail", "name"]
    list_filter = ["is_active", InStockFilter, IndexingStatusFilter, "category", "brand"]
    list_select_related = ["category", "brand"]
    search_fields = ["sku", "name"]
    readonly_fields = ["slug", "created_at", "updated_at"]
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related("images")
            .annotate(
                photos_pending=Count("images", filter=Q(images__indexing_status=IndexingStatus.PENDING)),
                photos_failed=Count("images", filter=Q(images__indexing_status=IndexingStatus.FAILED)),
                photos_total=Count("images"),
            )
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "sku"] if obj else fields

    @admin.display(description="Photo")
    def thumbnail(self, obj: Product) -> str:
        images = list(obj.images.all())
        if not images:
            return "—"
        url = thumbnail_url(images[0], 160) or images[0].image.url
        return format_html('<img src="{}" alt="{}" style="height:48px;width:48px;object-fit:cover">', url, obj.name)

    @admin.display(description="Indexing")
    def indexing(self, obj: Any) -> str:
        if obj.photos_total == 0:
            return "no photos"
        if obj.photos_failed:
            return f"{obj.photos_failed} failed"
        if obj.photos_pending:
            return f"{obj.photos_pending} pending"
        return "ready"

    def save_model(self, request: HttpRequest, obj: Product, form: forms.ModelForm, change: bool) -> None:
        data = {field: form.cleaned_data[field] for field in form.changed_data if field in services.UPDATABLE_FIELDS}
        if change:
            original = Product.objects.get(pk=obj.pk)
            services.product_update(product=original, **data)
        else:
            product = services.product_create(
                sku=form.cleaned_data["sku"],
                **{
                    "name": form.cleaned_data["name"],
                    "price": form.cleaned_data["price"],
                    **{
                        k: v for k, v in form.cleaned_data.items() if k in services.UPDATABLE_FIELDS - {"name", "price"}
                    },
                },
            )
            obj.pk = product.pk
            obj._state.adding = False
        obj.refresh_from_db()

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        if formset.model is not ProductImage:
            return super().save_formset(request, form, formset, change)
        product = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for image_form in formset.forms:
            if not image_form.has_changed() and not formset._should_delete_form(image_form):
                continue
            instance = image_form.instance
            if formset._should_delete_form(image_form):
                if instance.pk:
                    services.product_image_delete(image=instance)
                    formset.deleted_objects.append(instance)
                continue
            data = image_form.cleaned_data
            if instance.pk:
                updated = services.product_image_update(
                    image=instance, alt_text=data.get("alt_text", ""), position=data.get("position")
                )
                formset.changed_objects.append((updated, image_form.changed_data))
            elif data.get("image"):
                upload = data["image"]
                created = services.product_image_add(
                    product=product,
                    upload=services.ImageUpload(file=upload, name=upload.name, alt_text=data.get("alt_text", "")),
                    position=data.get("position"),
                )
                formset.new_objects.append(created)
        return None


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["__str__", "name", "parent"]
    search_fields = ["name", "path"]
    readonly_fields = ["path", "slug"]
    fields = ["name", "parent", "slug", "path"]

    def get_readonly_fields(self, request: HttpRequest, obj: Category | None = None) -> list[str]:
        # Moving a category would orphan the paths of its sub-tree.
        return ["path", "slug", "parent"] if obj else ["path", "slug"]

    def save_model(self, request: HttpRequest, obj: Category, form: forms.ModelForm, change: bool) -> None:
        if change:
            return super().save_model(request, obj, form, change)
        created = services.category_create(name=form.cleaned_data["name"], parent=form.cleaned_data["parent"])
        obj.pk = created.pk
        obj._state.adding = False
        obj.refresh_from_db()
        return None


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
