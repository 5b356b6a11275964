"""An approximate position from the uploader's IP address, for a photo without GPS data.

Used only when a city database is configured: GEOIP_PATH names a GeoIP2-format .mmdb
file (DB-IP's free "IP to City Lite", CC BY 4.0, or MaxMind's GeoLite2 City). Nothing is
downloaded at run time. Django's GeoIP2 wrapper reads the file; the position it gives is
a city's, often tens of kilometres off, so it is stored with the source "ip". The
address itself is read from the request by shared/client_address.py.
"""

from functools import lru_cache

from django.conf import settings


def ip_position(address: str | None) -> tuple[float, float] | None:
    """(latitude, longitude) of the city the address belongs to, or None: no database
    configured, a private or unknown address, or a record without a position."""
    if not address or not settings.GEOIP_PATH:
        return None
    # Imported here: sites without a city database never load geoip2.
    from geoip2.errors import AddressNotFoundError

    try:
        city = city_database().city(address)
    except (AddressNotFoundError, ValueError):
        return None
    if city["latitude"] is None or city["longitude"] is None:
        return None
    return city["latitude"], city["longitude"]


@lru_cache(maxsize=1)
def city_database():
    """Opened once per process: reading the file's index is the slow part."""
    from django.contrib.gis.geoip2 import GeoIP2

    return GeoIP2(path=settings.GEOIP_PATH)
