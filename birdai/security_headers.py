"""Two response headers that protect users: what a page may load, and who may keep a copy.

Content-Security-Policy: pages run only this site's own script files and styles (no
inline code), so text a user typed can never run as code even if a template forgot to
escape it. The policy is CONTENT_SECURITY_POLICY in birdai/settings.py (django-csp);
the middleware here adds the two other hosts a page shows images from, which depend on
settings: the photos' host (S3 or the CDN) and the map's tile server.

Cache-Control: private, no-store on every answer that depends on who asks (history,
the map, the account, the API's own data): a cache shared by several people (a proxy,
a CDN) must never hand one user's page or GPS positions to another, nor keep them on
disk. Pages that are the same for everyone stay cacheable.
"""

import weakref
from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.core.files.storage import Storage, storages
from django.http import HttpRequest, HttpResponse
from django.utils.cache import has_vary_header, patch_cache_control

# --- Content-Security-Policy ----------------------------------------------------------


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
    origins = [photo_origin(storages["default"]), tile_origin(settings.MAP_TILE_URL)]
    return [origin for origin in origins if origin]


def tile_origin(tile_url: str) -> str | None:
    """https://tile.example.org for https://tile.example.org/{z}/{x}/{y}.png; a
    template with Leaflet's subdomain placeholder {s} gives https://*.example.org."""
    return origin_of(tile_url.replace("{s}", "*"))


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


# --- Cache-Control: private -----------------------------------------------------------


class PrivateResponseMiddleware:
    """Marks answers that depend on who asks `Cache-Control: private, no-store`.

    Who asks is known from two things only: the session cookie and the API's
    `Authorization` header. Django adds `Vary: Cookie` to every response that read the
    session (the signed-in user, a message, a CSRF token), so that header tells which
    answers used it. This middleware therefore sits before SessionMiddleware in
    MIDDLEWARE: its code after the view runs after SessionMiddleware has added Vary.

    Photos under /media/ are not marked: their keys are long random names that work
    like S3's signed links, the same bytes for whoever holds the link, and the stored
    copies carry no metadata (no GPS). With S3 the CDN caches them the same way.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if has_vary_header(response, "Cookie") or "HTTP_AUTHORIZATION" in request.META:
            patch_cache_control(response, private=True, no_store=True)
        return response
