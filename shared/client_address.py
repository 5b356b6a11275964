"""The address a request came from, as far as it can be believed: throttling counts
per address, and an upload without a position in its photo gets an approximate one."""

import ipaddress

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
