"""``{% product_picture image sizes %}``: a photo as ``<picture>`` with WebP and JPEG thumbnails
in ``srcset`` (the browser picks the width ``sizes`` needs), the original while none exist yet."""

from __future__ import annotations

from django import template

from catalog import thumbnails
from catalog.models import ProductImage

register = template.Library()


@register.inclusion_tag("partials/picture.html")
def product_picture(
    image: ProductImage, sizes: str, css_class: str = "", lazy: bool = True, width: int = 320
) -> dict[str, object]:
    context: dict[str, object] = {"image": image, "sizes": sizes, "css_class": css_class, "lazy": lazy}
    if thumbnails.has_thumbnails(image):
        jpeg = thumbnails.thumbnails(image, "jpeg")
        fallback = next((thumb for thumb in jpeg if thumb.width >= width), jpeg[-1])
        context.update(
            webp_srcset=thumbnails.srcset(image, "webp"),
            jpeg_srcset=", ".join(f"{thumb.url} {thumb.width}w" for thumb in jpeg),
            src=fallback.url,
            width=fallback.width,
            height=fallback.height,
        )
    else:
        context.update(src=image.image.url, width=image.width, height=image.height)
    return context
