"""Place names: the nearest GeoNames town to a photo's position, looked up offline in the
database (geo/places.py), and `manage.py load_places` with the real GeoNames data."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.management import call_command

from geo.models import Place
from geo.places import describe_position, nearest_place
from history.pipeline import submit_photo
from tests.geo.test_exif import photo_full_of_metadata

pytestmark = pytest.mark.django_db


def place(name: str, country: str, latitude: float, longitude: float) -> Place:
    point = Point(longitude, latitude, srid=4326)
    return Place.objects.create(name=name, country_code=country, population=1, point=point)


@pytest.fixture
def towns():
    return [
        place("Lafayette", "US", 40.4167, -86.8753),
        place("West Lafayette", "US", 40.4259, -86.9081),
        place("Sydney", "AU", -33.8679, 151.2073),
        place("Longyearbyen", "SJ", 78.2232, 15.6267),  # far north: narrow longitude degrees
    ]


def test_it_names_the_nearest_town(towns):
    purdue = Point(-86.9212, 40.4237, srid=4326)  # closer to West Lafayette
    assert nearest_place(purdue).name == "West Lafayette"
    assert describe_position(Point(-86.87, 40.41, srid=4326)) == "near Lafayette, US"


def test_it_works_near_the_poles(towns):
    assert nearest_place(Point(15.9, 78.25, srid=4326)).name == "Longyearbyen"


def test_far_from_every_town_is_near_nothing(towns):
    mid_pacific = Point(-140.0, 0.0, srid=4326)
    assert nearest_place(mid_pacific) is None
    assert describe_position(mid_pacific) == ""
    assert describe_position(None) == ""


def test_a_submission_records_its_place(towns, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    owner = get_user_model().objects.create_user("alice")
    data = photo_full_of_metadata("JPEG")  # GPS: the Sydney Opera House
    submission = submit_photo(owner=owner, data=data, filename="a.jpg").submission
    assert submission.place == "near Sydney, AU"


def test_load_places_loads_the_real_geonames_cities():
    output = StringIO()
    call_command("load_places", "--min-population=15000", stdout=output)
    assert "places (GeoNames, CC BY 4.0)" in output.getvalue()
    assert Place.objects.count() > 20_000
    purdue_university = Point(-86.9212, 40.4237, srid=4326)
    assert str(nearest_place(purdue_university)) == "West Lafayette, US"
    call_command("load_places", "--min-population=15000", stdout=StringIO())  # again
    assert Place.objects.filter(name="West Lafayette").count() == 1  # replaced, not added
    skipped = StringIO()
    call_command("load_places", "--if-empty", stdout=skipped)
    assert skipped.getvalue().strip() == "Places are loaded already."
