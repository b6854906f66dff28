"""The shop's catalogue: categories (a tree), brands, products and their photos."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Prefetch, Q

# What the text encoder reads of a product (``Product.search_text``); a change to any of these
# fields is announced with ``text_changed`` so the product's text vector follows.
SEARCH_TEXT_FIELDS = frozenset({"name", "description", "brand", "category"})


class Category(models.Model):
    """A node of the category tree; ``path`` ("clothing/shoes/") makes sub-tree filters one index range."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=1000, unique=True, editable=False)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["path"]
        indexes = [models.Index(fields=["path"], name="category_path_idx", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return " › ".join(part.replace("-", " ") for part in self.path.strip("/").split("/")) or self.name

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1


class ProductQuerySet(models.QuerySet["Product"]):
    """Chainable reads: ``Product.objects.active().in_category(c)``."""

    def active(self) -> ProductQuerySet:
        return self.filter(is_active=True)

    def in_category(self, category: Category) -> ProductQuerySet:
        """Products in the category or any of its sub-categories."""
        return self.filter(category__path__startswith=category.path)

    def in_stock(self) -> ProductQuerySet:
        return self.filter(stock__gt=0)

    def with_listing_data(self) -> ProductQuerySet:
        """Everything a product card shows, in a fixed number of queries."""
        return self.select_related("brand", "category").prefetch_related(
            Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
        )


class Brand(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=140, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(max_length=255)
    slug = models.SlugField(max_length=280, unique=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")
    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(max_length=3, default=settings.SHOPLENS_DEFAULT_CURRENCY)
    stock = models.PositiveIntegerField(default=0)
    rating = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("5"))],
    )
    is_active = models.BooleanField(default=True, help_text="Inactive products are hidden from shoppers.")
    attributes = models.JSONField(default=dict, blank=True, help_text='Free-form details, e.g. {"colour": "red"}.')
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["price"], name="product_price_idx"),
            models.Index(fields=["stock"], name="product_stock_idx"),
            models.Index(fields=["rating"], name="product_rating_idx"),
            models.Index(fields=["is_active", "category"], name="product_active_category_idx"),
            models.Index(fields=["is_active", "brand"], name="product_active_brand_idx"),
            models.Index(fields=["created_at"], name="product_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_non_negative"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=0, rating__lte=5), name="product_rating_range"
            ),
            models.CheckConstraint(condition=~Q(currency=""), name="product_currency_set"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("storefront:product-detail", kwargs={"slug": self.slug})

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    def search_text(self) -> str:
        """What the text encoder reads: name, brand, category path and description
        (``SEARCH_TEXT_FIELDS``)."""
        brand = self.brand.name if self.brand else ""
        parts = [self.name, brand, str(self.category or ""), self.description]
        return "\n".join(part.strip() for part in parts if part and part.strip())


class IndexingStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


def product_image_path(instance: ProductImage, filename: str) -> str:
    return f"products/{instance.product_id}/{filename}"


class ProductImage(models.Model):
    """A product photo. ``sha256`` of the bytes keeps a product from holding the same photo twice
    and lets the indexer reuse vectors of identical bytes."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to=product_image_path, max_length=255)
    position = models.PositiveSmallIntegerField(default=0)
    alt_text = models.CharField(max_length=255, blank=True)
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    sha256 = models.CharField("SHA-256", max_length=64, editable=False)
    indexing_status = models.CharField(
        max_length=10, choices=IndexingStatus.choices, default=IndexingStatus.PENDING, editable=False
    )
    indexing_error = models.TextField(blank=True, editable=False)
    indexed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "sha256"], name="product_image_unique_bytes"),
        ]
        indexes = [
            models.Index(fields=["sha256"], name="product_image_sha256_idx"),
            models.Index(fields=["indexing_status", "created_at"], name="product_image_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} #{self.position}"

    @property
    def description(self) -> str:
        return self.alt_text or self.product.name
