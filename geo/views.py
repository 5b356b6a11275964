"""The photo map: the user's own photos at /map/, everyone's at /map/all/ (staff only).

The points travel inside the page (Django's json_script), so the map needs no second
request; geo/static/geo/map.js draws them with Leaflet and Leaflet.markercluster, which
are served from this app's static files (geo/static/geo/vendor/), never from a CDN.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from history.models import Submission

# The newest this many located photos are drawn; a browser handles that many markers
# in clusters, and the page stays a few hundred kilobytes.
MAX_POINTS = 5000
# The default tiles are OpenStreetMap's, whose licence asks for this credit (shown as
# HTML by Leaflet, so it must stay a constant here, never user data).
TILE_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)


@login_required
def my_map(request: HttpRequest) -> HttpResponse:
    submissions = Submission.objects.owned_by(request.user)
    return render_map(request, submissions, title="Your photos on a map", everyone=False)


@login_required
def everyones_map(request: HttpRequest) -> HttpResponse:
    # Like another user's submission, the page is simply not there for non-staff.
    if not request.user.is_staff:
        raise Http404("No such page.")
    submissions = Submission.objects.all()
    return render_map(request, submissions, title="Everyone's photos on a map", everyone=True)


def render_map(request: HttpRequest, submissions, title: str, everyone: bool) -> HttpResponse:
    fields = ["owner", "location", "top_species", "is_bird", "thumbnail", "taken_at", "created_at"]
    if everyone:
        submissions = submissions.select_related("owner")
        fields += ["owner__username"]
    located = submissions.filter(location__isnull=False).newest_first().only(*fields)
    rows = list(located[: MAX_POINTS + 1])  # one more tells whether some were left out
    points = [point(request, submission, everyone) for submission in rows[:MAX_POINTS]]
    context = {
        "title": title,
        "points": points,
        "capped": len(rows) > MAX_POINTS,
        "max_points": MAX_POINTS,
        "everyone": everyone,
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": TILE_ATTRIBUTION,
    }
    return render(request, "geo/map.html", context)


def point(request: HttpRequest, submission: Submission, everyone: bool) -> dict:
    """One photo as the script needs it. Only plain data: map.js puts it in the page as
    text, never as HTML."""
    when = submission.taken_at or submission.created_at
    own = submission.owner_id == request.user.pk
    data = {
        "id": submission.pk,
        "lat": round(submission.location.y, 6),  # x is the longitude, y the latitude
        "lon": round(submission.location.x, 6),
        "species": submission.top_species if submission.is_bird else "Not a bird",
        "date": timezone.localtime(when).date().isoformat(),
        "thumbnail": submission.thumbnail.url,
        # The detail page shows only one's own photos (another user's is a 404).
        "url": reverse("submission", args=[submission.pk]) if own else None,
    }
    if everyone:
        data["owner"] = submission.owner.username
    return data
