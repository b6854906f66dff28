"""What shoppers searched (``SearchEvent``) and what they did with the results (``ResultInteraction``).

No IP address, user id or raw session key is stored: at most a salted hash of the session key.
The query photos are kept only as SHA-256 digests, plus a small thumbnail when
``SHOPLENS_ANALYTICS_KEEP_THUMBNAILS`` is on.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models


class SearchKind(models.TextChoices):
    IMAGE = "image", "Photo"
    TEXT = "text", "Text"
    IMAGE_TEXT = "image_text", "Photo + text"
    PRODUCT = "product", "Similar products"


class Channel(models.TextChoices):
    PAGE = "page", "Shop page"
    API = "api", "API"


class SearchEvent(models.Model):
    search_id = models.UUIDField(primary_key=True, editable=False)
    created_at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=16, choices=SearchKind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    text = models.CharField(max_length=500, blank=True)
    photo_sha256s = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    negative_photo_sha256s = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    query_product_id = models.BigIntegerField(null=True, blank=True, help_text="The product of a similar search.")
    criteria = models.JSONField(default=dict, blank=True, help_text="Filters the shopper chose.")
    limit = models.PositiveSmallIntegerField()
    results = models.JSONField(default=list, blank=True, help_text="[product id, score, match percent] in order.")
    result_count = models.PositiveSmallIntegerField()
    top_score = models.FloatField(null=True, blank=True)
    top_match_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    category_id = models.BigIntegerField(
        null=True, blank=True, help_text="The category filtered by, else the first result's category."
    )
    encode_ms = models.FloatField(default=0)
    search_ms = models.FloatField(default=0)
    load_ms = models.FloatField(default=0)
    total_ms = models.FloatField(default=0)
    encoders = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    session_hash = models.CharField(max_length=64, blank=True, help_text="Salted hash of the session key.")
    thumbnail = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kind", "created_at"], name="search_event_kind_time_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} search {self.search_id}"

    @property
    def product_ids(self) -> list[int]:
        return [int(row[0]) for row in self.results]


class InteractionType(models.TextChoices):
    CLICK = "click", "Click"
    ADD_TO_BASKET = "add_to_basket", "Added to basket"
    PURCHASE = "purchase", "Purchase"


class ResultInteraction(models.Model):
    """A shopper acting on one result of a search: opening it, putting it in the basket, buying it."""

    event = models.ForeignKey(SearchEvent, on_delete=models.CASCADE, related_name="interactions")
    product_id = models.BigIntegerField()
    position = models.PositiveSmallIntegerField(help_text="1-based position in the results.")
    type = models.CharField(max_length=16, choices=InteractionType.choices, default=InteractionType.CLICK)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["event", "type", "position"], name="interaction_event_type_idx")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} on #{self.position} of {self.event_id}"
