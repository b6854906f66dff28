from django.apps import AppConfig


class VisualSearchConfig(AppConfig):
    name = "visualsearch"
    verbose_name = "Visual search"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from catalog.changes import CatalogChanges, catalog_changed
        from visualsearch import checks  # noqa: F401  (registers the system checks)
        from visualsearch.scheduling import index_catalog_changes

        catalog_changed.connect(index_catalog_changes, sender=CatalogChanges, dispatch_uid="visualsearch.index")
