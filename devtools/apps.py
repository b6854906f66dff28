from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Development and benchmark tools: the demo, benchmarks, the random CLIP builder.
    Installed by the local and test settings only, never in production."""

    name = "devtools"
    verbose_name = "Development tools"

    def ready(self) -> None:
        from devtools.random_clip import resolve_random_clip_settings

        resolve_random_clip_settings()
