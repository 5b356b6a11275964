"""An approximate position from the uploader's IP address, for a photo without GPS data.

Used only when a city database is configured: GEOIP_PATH names a GeoIP2-format .mmdb
file (DB-IP's free "IP to City Lite", CC BY 4.0, or MaxMind's GeoLite2 City). Nothing is
downloaded at run time. Django's GeoIP2 wrapper reads the file; the position it gives is
a city's, often tens of kilometres off, so it is stored with the source "ip".
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from.

    Behind a load balancer or CDN, REMOTE_ADDR is the proxy's own address and the
    client's is in X-Forwarded-For, which every proxy appends to. Only the entries the
    TRUSTED_PROXY_COUNT proxies in front of us wrote can be believed; anything to their
    left came from the client, who can write whatever it likes there.
    """
    address = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        # The last proxy's client is REMOTE_ADDR; each proxy before it appended one entry.
        address = forwarded[-proxies] if len(forwarded) >= proxies else None
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


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
