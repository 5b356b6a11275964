"""Cache-Control on every answer: who may keep a copy of it, and for how long.

A proxy cache in front of the app servers (nginx, a CDN) answers what it may keep without
asking an app server, which is the cheapest request there is; but a page or a position
of one user handed to another would be a breach. So every answer says which it is:

    public, max-age=60      the same for everyone: the anonymous home page `/`, the API
                            schema and its docs page (PUBLIC_VIEWS). Only a GET or HEAD
                            answered 200 that sets no cookie and did not read the session.
    private, no-store       anything that depends on who asks, or that is no page to
                            keep: the request carried `Authorization`, or the answer read
                            the session (Django then adds `Vary: Cookie`: history, the map,
                            the account pages, the log-in form), sets a cookie, is an
                            error (4xx, 5xx: a 503 must not outlive the outage), or
                            answers a POST/DELETE. With `Vary: Cookie, Authorization`, which
                            say what the answer depended on.
    no-cache                everything else (a redirect, a photo under /media/): a cache
                            may keep it but must ask an app server each time.

A view that set its own Cache-Control (the health checks' never_cache, the token page's
no-store) keeps it, unless the answer is per user: then it is private, no-store whatever
the view said. Static files never reach this middleware: WhiteNoise, before it in
MIDDLEWARE, answers them itself (max-age of a year for the collected files, whose names
hold a hash of their content, so a changed file is a new name).

Why 60 seconds: the public pages change only when a new version is deployed. For 60
seconds a proxy answers them alone (one request a minute reaches an app server, however
many users ask), and a minute after a deploy nobody gets the old page, which could name
static files the new version no longer has.

It sits before SessionMiddleware and CsrfViewMiddleware in MIDDLEWARE, so that it sees
the `Vary: Cookie` and the cookies they add.
"""

from django.http import HttpRequest, HttpResponse
from django.utils.cache import has_vary_header, patch_cache_control, patch_vary_headers

PUBLIC_MAX_AGE = 60  # seconds; see above

# The views whose answers are the same for everyone (URL names, as in reverse()).
PUBLIC_VIEWS = {
    "upload",  # `/`: classify a photo, keeps nothing; its form needs no CSRF token
    "api-v1:openapi-json",  # /api/v1/openapi.json
    "api-v1:openapi-view",  # /api/v1/docs
}

SAFE_METHODS = {"GET", "HEAD"}


def is_per_user(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether the answer may depend on who asked (or is theirs alone)."""
    return (
        "HTTP_AUTHORIZATION" in request.META
        or has_vary_header(response, "Cookie")  # the session was read
        or bool(response.cookies)  # a session, a CSRF token: this visitor's own
    )


def is_public(request: HttpRequest, response: HttpResponse) -> bool:
    view = request.resolver_match.view_name if request.resolver_match else None
    return view in PUBLIC_VIEWS and request.method in SAFE_METHODS and response.status_code == 200


class CacheControlMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            is_per_user(request, response)
            or response.status_code >= 400
            or request.method not in SAFE_METHODS
        ):
            # Replaces whatever the view said: nothing per user may be kept by anyone.
            response["Cache-Control"] = "private, no-store"
            patch_vary_headers(response, ["Cookie", "Authorization"])
        elif "Cache-Control" in response:
            pass  # the view decided (never_cache on the health checks)
        elif is_public(request, response):
            patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
        else:
            patch_cache_control(response, no_cache=True)
        return response
