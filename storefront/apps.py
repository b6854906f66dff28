from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    """The shop's HTML pages: catalogue, product page, search by photo."""

    name = "storefront"
    verbose_name = "Storefront"
