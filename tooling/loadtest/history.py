"""Histories that exist before the soak begins.

The soak compares every minute with minute one, so minute one must do the same work as
the others. With users made just before the run it did not: their histories were empty,
and a history list of 3 photos is cheaper to answer than the full page of 24 it becomes
three minutes later. In a 10-minute soak at 35 requests/s (round robin) the list's p50
went from 10 to 14 ms and the map's (one feature per photo, each with a signed
thumbnail link) from 10 to 25 ms: the data grew, not the servers' slowness.

So before the soak, every signed-in user it will use uploads a full page of photos
through the API, the way the soak's own uploads go (unique bytes from photos.py, so
every one is classified and stored). Their uploads during the soak still add to them:
the map's answers keep growing, up to their bound of 200 photos (history/locations.py),
as a real user's would.
"""

import math
import time
from concurrent.futures import ThreadPoolExecutor

from tooling.loadtest.accounts import Credentials
from tooling.loadtest.endpoints import SUBMISSIONS
from tooling.loadtest.photos import CAMERA_PHOTOS, PhotoPool
from tooling.servers.net import http_post_file

# Uploads in flight at once: enough to keep two single-worker app servers busy, few
# enough that no account goes over its upload rate (UPLOAD_RATE_PER_ACCOUNT, 60/m),
# as each upload goes to the next user in turn.
CONCURRENT_UPLOADS = 4


class HistoryNotMade(RuntimeError):
    """An upload before the soak did not store its photo."""


def signed_in_users(users: int, anonymous_weight: int, signed_in_weight: int) -> int:
    """How many of `users` are signed in, by the users' weights (workload.py), rounded
    up: a user more is a few uploads more, a user less would start with no history."""
    return math.ceil(users * signed_in_weight / (anonymous_weight + signed_in_weight))


def fill_histories(
    host: str, credentials: list[Credentials], photos_each: int, *, seed: int | None = None
) -> dict:
    """Uploads `photos_each` new photos for each of these users through the API of
    `host`, and says how many and how long. Raises HistoryNotMade at the first upload
    that is not stored (201)."""
    started = time.monotonic()
    photos = PhotoPool(CAMERA_PHOTOS, seed=seed)
    # User 1, user 2, ..., user N, then user 1 again: each account's uploads spread out.
    uploads = [(user, photos.next()) for _ in range(photos_each) for user in credentials]

    def upload(job: tuple[Credentials, bytes]) -> None:
        user, photo = job
        response = http_post_file(
            f"{host.rstrip('/')}{SUBMISSIONS}",
            field_name="image",
            filename="photo.jpg",
            data=photo,
            headers={"Authorization": f"Bearer {user.token}"},
        )
        if response.status != 201:
            raise HistoryNotMade(
                f"POST {SUBMISSIONS} answered {response.status}, not 201: "
                f"{response.body[:200].decode(errors='replace')}"
            )

    with ThreadPoolExecutor(CONCURRENT_UPLOADS) as pool:
        for _ in pool.map(upload, uploads):
            pass  # map raises the first upload's error here
    return {
        "users": len(credentials),
        "photos_each": photos_each,
        "uploads": len(uploads),
        "seconds": round(time.monotonic() - started, 1),
    }
