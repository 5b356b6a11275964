"""`python manage.py rebuild_map_cells`: counts every located photo into the map's grid
cells again (geo/map_cells.py), from scratch. It lives in history because it reads the
submissions; geo only counts the positions it is given.

The counts follow every photo saved or deleted through Django. Run this after rows were
written around it: a bulk load with COPY or SQL, a restored backup, `loaddata`.
"""

import time

from django.core.management.base import BaseCommand

from geo import map_cells
from geo.models import MapCell
from history.models import Submission


class Command(BaseCommand):
    help = "Counts every located photo into the map's grid cells again, from scratch."

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        counted = map_cells.rebuild(Submission.objects.all())
        self.stdout.write(
            f"Counted {counted:,} located photos into {MapCell.objects.count():,} cells "
            f"in {time.perf_counter() - started:.1f} s."
        )
