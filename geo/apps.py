from django.apps import AppConfig


class GeoConfig(AppConfig):
    # Photo locations (EXIF GPS into PostGIS, the map) arrive with their own issue.
    name = "geo"
    verbose_name = "Photo locations"
