"""The photo map: the user's own photos at /map/, everyone's at /map/all/ (staff only).

The page holds no photos. geo/static/geo/map.js asks GET /api/v1/locations (by the
browser's session) for the box the map shows, as any API client would, and asks again
as the map moves: one way to the data, with the API's bounds and clustering. It draws
with Leaflet and Leaflet.markercluster, which are served from this app's static files
(geo/static/geo/vendor/), never from a CDN.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

# The default tiles are OpenStreetMap's, whose licence asks for this credit (shown as
# HTML by Leaflet, so it must stay a constant here, never user data).
TILE_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)


@login_required
def my_map(request: HttpRequest) -> HttpResponse:
    return render_map(request, title="Your photos on a map", everyone=False)


@login_required
def everyones_map(request: HttpRequest) -> HttpResponse:
    # Like another user's submission, the page is simply not there for non-staff.
    if not request.user.is_staff:
        raise Http404("No such page.")
    return render_map(request, title="Everyone's photos on a map", everyone=True)


def render_map(request: HttpRequest, title: str, everyone: bool) -> HttpResponse:
    context = {
        "title": title,
        "everyone": everyone,
        # Found by their URL names, so that geo imports nothing of the app that
        # serves them (the locations API and the photo pages are history's).
        "locations_url": reverse("api-v1:locations"),
        "photo_url": photo_url_pattern(),
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": TILE_ATTRIBUTION,
    }
    return render(request, "geo/map.html", context)


def photo_url_pattern() -> str:
    """The address of a photo's page with "{id}" where its id goes: /history/{id}/."""
    marker = 987654321  # an id that appears nowhere else in the address
    return reverse("submission", args=[marker]).replace(str(marker), "{id}")
