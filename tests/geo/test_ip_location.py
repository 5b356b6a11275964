"""Approximate positions from the uploader's IP address, read from a real GeoIP2-format
city database that the test writes (mmdb-writer): nothing is downloaded."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from accounts.models import ApiToken
from geo import ip_location
from geo.ip_location import ip_position
from history.models import LocationSource, Submission
from shared.client_address import client_ip
from tests.geo.test_exif import photo_full_of_metadata
from tooling.photos import skimage_photo

LAFAYETTE_NETWORK = "203.0.113.0/24"  # TEST-NET-3: an address block reserved for examples
LAFAYETTE = (40.4167, -86.8753)


@pytest.fixture
def city_database(settings, tmp_path):
    """A city database that knows one network, in the format DB-IP's Lite files use."""
    writer = MMDBWriter(
        ip_version=6, ipv4_compatible=True, database_type="DBIP-City-Lite", languages=["en"]
    )
    writer.insert_network(
        IPSet([LAFAYETTE_NETWORK]),
        {
            "city": {"names": {"en": "Lafayette"}},
            "country": {"iso_code": "US", "names": {"en": "United States"}},
            "location": {"latitude": LAFAYETTE[0], "longitude": LAFAYETTE[1]},
        },
    )
    path = tmp_path / "city.mmdb"
    writer.to_db_file(str(path))
    settings.GEOIP_PATH = str(path)
    ip_location.city_database.cache_clear()
    yield path
    ip_location.city_database.cache_clear()


def request_from(remote_addr: str, forwarded_for: str | None = None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, headers=headers)


def test_it_finds_the_city_of_a_known_address(city_database):
    assert ip_position("203.0.113.9") == pytest.approx(LAFAYETTE)


@pytest.mark.parametrize("address", ["198.51.100.1", "127.0.0.1", "10.0.0.7", None])
def test_unknown_and_private_addresses_have_no_position(city_database, address):
    assert ip_position(address) is None


def test_no_database_no_position(settings):
    settings.GEOIP_PATH = ""
    assert ip_position("203.0.113.9") is None


def test_without_proxies_the_client_is_the_connecting_address(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    # A client may send any X-Forwarded-For; with no proxy in front it means nothing.
    assert client_ip(request_from("203.0.113.9", forwarded_for="1.2.3.4")) == "203.0.113.9"


def test_behind_one_proxy_the_client_is_the_last_forwarded_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote "1.2.3.4" itself; our load balancer appended the real address.
    request = request_from("10.0.0.2", forwarded_for="1.2.3.4, 203.0.113.9")
    assert client_ip(request) == "203.0.113.9"


def test_a_missing_or_malformed_forwarded_header_gives_no_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from("10.0.0.2")) is None
    assert client_ip(request_from("10.0.0.2", forwarded_for="not-an-address")) is None


@pytest.mark.django_db
def test_a_photo_without_gps_gets_the_uploaders_city(client, city_database, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    user = get_user_model().objects.create_user("alice")
    _, token = ApiToken.issue(user, "test")
    upload = SimpleUploadedFile("coffee.png", skimage_photo("coffee.png"))
    response = client.post(
        "/api/v1/submissions",
        {"image": upload},
        headers={"Authorization": f"Bearer {token}"},
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 201, response.content
    location = response.json()["location"]
    assert location["source"] == "ip"
    assert (location["latitude"], location["longitude"]) == pytest.approx(LAFAYETTE)


@pytest.mark.django_db
def test_gps_data_wins_over_the_ip_address(city_database, settings, tmp_path):
    from history.pipeline import submit_photo

    settings.MEDIA_ROOT = tmp_path / "media"
    user = get_user_model().objects.create_user("alice")
    data = photo_full_of_metadata("JPEG")  # GPS: Sydney
    submission = submit_photo(
        owner=user, data=data, filename="a.jpg", client_address="203.0.113.9"
    ).submission
    assert submission.location_source == LocationSource.EXIF
    assert submission.location.y == pytest.approx(-33.8568, abs=1e-3)
    assert Submission.objects.count() == 1
