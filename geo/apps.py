from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "geo"
    verbose_name = "Photo locations"

    def ready(self) -> None:
        from geo import signals  # noqa: F401 - connects the map cells' receivers
