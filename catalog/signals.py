"""Cross-cutting cleanup only: stored photo files follow their rows out."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from catalog.models import ProductImage


@receiver(post_delete, sender=ProductImage, dispatch_uid="catalog.delete_photo_file")
def delete_photo_file(sender: type[ProductImage], instance: ProductImage, **kwargs: Any) -> None:
    """Remove the file once the deletion commits (cascades included), unless another row shares it."""
    storage, name = instance.image.storage, instance.image.name
    if not name:
        return

    def delete() -> None:
        if not ProductImage.objects.filter(image=name).exists():
            storage.delete(name)

    transaction.on_commit(delete)
