"""Vectors for search. Each (encoder, model version) is an ``EmbeddingSpace`` with its own
HNSW index, so a new model version is filled beside the serving one and swapped in
only once it covers the catalogue."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from catalog.models import Product, ProductImage
from visualsearch.fields import HalfPrecisionVectorField


class SpaceStatus(models.TextChoices):
    BUILDING = "building", "Building"  # being filled; not searched yet
    ACTIVE = "active", "Active"  # the one search uses for its encoder
    RETIRED = "retired", "Retired"  # superseded; its vectors can be pruned


class EmbeddingSpace(models.Model):
    encoder = models.CharField(max_length=32)
    model_name = models.CharField(max_length=255)
    model_version = models.CharField(max_length=255)
    dimension = models.PositiveIntegerField()
    # A space whose encoder orders its components by energy (a fitted rotation,
    # visualsearch.encoders.whitening) can have its HNSW index over the leading ones only: a
    # smaller, faster graph for candidates, which search then scores on the whole vector.
    index_dimension = models.PositiveIntegerField(
        null=True, blank=True, help_text="Leading components the HNSW index covers; empty: all of them."
    )
    modality = models.CharField(max_length=8, choices=[("image", "Image"), ("text", "Text")], default="image")
    status = models.CharField(max_length=10, choices=SpaceStatus.choices, default=SpaceStatus.BUILDING)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["encoder", "model_version", "modality"], name="space_unique_version"),
            models.UniqueConstraint(
                fields=["encoder", "modality"], condition=Q(status="active"), name="space_one_active_per_encoder"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.encoder}/{self.modality} {self.model_version} ({self.status})"

    @property
    def table(self) -> str:
        """The table holding this space's vectors."""
        return ImageEmbedding._meta.db_table if self.modality == "image" else ProductTextEmbedding._meta.db_table

    @property
    def index_name(self) -> str:
        return f"{self.table}_hnsw_{self.pk}"


def indexed_vector_sql(column: str, dimension: int, index_dimension: int | None) -> str:
    """The expression a space's HNSW index is over, and that a nearest-neighbour query orders
    by to use it: the half-precision ``column`` cast to the space's width, or its leading
    ``index_dimension`` components."""
    if index_dimension and index_dimension < dimension:
        return f"subvector({column}, 1, {int(index_dimension)})::halfvec({int(index_dimension)})"
    return f"{column}::halfvec({int(dimension)})"


# A copy of ``catalog_product.category_id`` on every vector row, kept by the database's
# triggers (migration 0008): set on insert, followed when a product moves to another category
# or its category is deleted. With the (space, category) index it lets the exact scan of a
# category filter read that category's vectors in one index range instead of one index descent
# per product (visualsearch.search.sql).
PRODUCT_CATEGORY_HELP = "The product's category, copied by a database trigger (not edited here)."


class ImageEmbedding(models.Model):
    """One vector per (photo, space). ``product`` is copied from the photo so a search can
    filter and group by product without going through the photo table; so is the product's
    category (``product_category_id``, by a trigger)."""

    # Lookups by space or by product use the indexes below, which lead with them: single-column
    # indexes would only cost writes and disk (and the planner took the product one for the exact
    # path, fetching the other spaces' rows too: 5 % slower at 100 000 products).
    space = models.ForeignKey(EmbeddingSpace, on_delete=models.CASCADE, related_name="image_embeddings", db_index=False)
    image = models.ForeignKey(ProductImage, on_delete=models.CASCADE, related_name="embeddings")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="image_embeddings", db_index=False)
    product_category_id = models.BigIntegerField(null=True, editable=False, help_text=PRODUCT_CATEGORY_HELP)
    content_sha256 = models.CharField(max_length=64)
    # Half precision, no fixed width: each space's partial HNSW index casts to its own dimension.
    vector = HalfPrecisionVectorField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["space", "image"], name="image_embedding_unique")]
        indexes = [
            models.Index(fields=["space", "content_sha256"], name="image_embedding_sha_idx"),
            models.Index(fields=["product", "space"], name="image_embedding_product_idx"),
            models.Index(fields=["space", "product_category_id"], name="image_embedding_category_idx"),
        ]

    def __str__(self) -> str:
        return f"image {self.image_id} in space {self.space_id}"


class ProductTextEmbedding(models.Model):
    space = models.ForeignKey(EmbeddingSpace, on_delete=models.CASCADE, related_name="text_embeddings")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="text_embeddings")
    product_category_id = models.BigIntegerField(null=True, editable=False, help_text=PRODUCT_CATEGORY_HELP)
    text_sha256 = models.CharField(max_length=64)
    vector = HalfPrecisionVectorField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["space", "product"], name="text_embedding_unique")]
        indexes = [models.Index(fields=["space", "product_category_id"], name="text_embedding_category_idx")]

    def __str__(self) -> str:
        return f"product {self.product_id} text in space {self.space_id}"
