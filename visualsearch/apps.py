from django.apps import AppConfig


class VisualSearchConfig(AppConfig):
    name = "visualsearch"
    verbose_name = "Visual search"
    default_auto_field = "django.db.models.BigAutoField"
