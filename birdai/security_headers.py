"""Content-Security-Policy, the response header that says what a page may load.

Pages run only this site's own script files and styles (no
inline code), so text a user typed can never run as code even if a template forgot to
escape it. The policy is CONTENT_SECURITY_POLICY in birdai/settings.py (django-csp);
the middleware here adds the two other hosts a page shows images from, which depend on
settings: the photos' host (S3 or the CDN) and the map's tile server.

(Who may keep a copy of an answer, Cache-Control, is birdai/cache_headers.py.)
"""

import weakref
from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings  # ASSIGNMENT 2
from django.core.files.storage import Storage, storages
from django.http import HttpRequest, HttpResponse


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the photos' and the tiles' hosts in img-src."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponse, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        update = dict(parts.update or {})
        update["img-src"] = [*update.get("img-src", []), *image_hosts()]
        parts.update = update
        return parts


def image_hosts() -> list[str]:
    """The origins besides this site that pages show images from."""
    origins = [photo_origin(storages["default"])]
    # BEGIN ASSIGNMENT 2
    origins.append(tile_origin(settings.MAP_TILE_URL))
    # END ASSIGNMENT 2
    return [origin for origin in origins if origin]


# BEGIN ASSIGNMENT 2
def tile_origin(tile_url: str) -> str | None:
    """https://tile.example.org for https://tile.example.org/{z}/{x}/{y}.png; a
    template with Leaflet's subdomain placeholder {s} gives https://*.example.org."""
    return origin_of(tile_url.replace("{s}", "*"))


# END ASSIGNMENT 2
_photo_origins: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def photo_origin(storage: Storage) -> str | None:
    """The origin of the links the storage makes for photos: the CDN's domain, the S3
    endpoint, or none for files this site serves itself (/media/...).

    Asked of the storage itself, so it is right for every way a link can be made
    (CloudFront, S3's virtual-host or path-style addresses). Signing an S3 link costs
    about 0.2 ms, so the answer is kept per storage object; a failure (no credentials
    yet) is not kept, the next page asks again.
    """
    if storage not in _photo_origins:
        try:
            url = storage.url("csp-origin-probe")
        except Exception:  # noqa: BLE001 - then no photo host: photos fail, pages still load
            return None
        _photo_origins[storage] = origin_of(url)
    return _photo_origins[storage]


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not (parts.scheme and parts.netloc):
        return None  # a path on this site: 'self' covers it
    return f"{parts.scheme}://{parts.netloc}"
