"""The load test's users: what a mix of real visitors does to bird.ai.

Importing this module imports Locust, which patches the standard library for gevent
(sockets, threads, time): import it only in a process that runs a load test
(`python -m tooling.loadtest`), and before anything else opens a connection.

Two kinds of visitors, each request one task (so the mix of tasks is the mix of
requests). Of every 3 users, 1 is anonymous and 2 are signed in (`weight`); the task
weights within each are below. Per 30 requests, overall:

    anonymous (weight 1)                       signed in (weight 2)
    POST /api/v1/classify   4  (13 %)          POST /api/v1/submissions     4  (13 %)
    GET  /                  2  (7 %)           GET  /api/v1/submissions     6  (20 %)
    GET  /static/*          4  (13 %)          GET  /api/v1/submissions/{id} 4 (13 %)
                                               GET  /api/v1/locations?bbox  4  (13 %)
                                               GET  /history/               2  (7 %)

Classify and upload carry photo bytes no one sent before (photos.py), so neither the
upload's dedupe by checksum nor a cache by SHA-256 can answer them: every one is
classified. Reads are per user (token or session), so no shared cache may answer them
either; only the home page and static files are cacheable by the proxy.

Each user sends `PACE` requests a second at most (Locust's constant_throughput), so
`users x pace` is the rate offered, as long as the servers keep up: a step from 10 to 20
users doubles the rate asked for, and the rate served shows whether they kept up.
"""

import itertools
import random
import re

from locust import FastHttpUser, constant_throughput, task

from tooling.loadtest.accounts import Credentials
from tooling.loadtest.endpoints import (
    CLASSIFY,
    HISTORY_PAGE,
    HOME_PAGE,
    LOCATIONS,
    LOGIN_PAGE,
    STATIC,
    SUBMISSION,
    SUBMISSIONS,
)
from tooling.loadtest.photos import BIRD_PHOTOS, CAMERA_PHOTOS, PhotoPool
from tooling.servers.net import multipart_file

# Map viewports the signed-in users look at: Italy (where the uploaded photos were
# taken), western Europe, and the whole world.
VIEWPORTS = ["6,36,19,47.5", "-10,35,20,60", "-180,-90,180,90"]
PAGE_SIZE = 24  # what the history page shows
REQUEST_TIMEOUT_SECONDS = 30.0
# Which file, which submission, which viewport: made-up choices, not secrets.
pick = random.Random()  # noqa: S311
STATIC_LINK = re.compile(r'(?:href|src)="(/static/[^"]+)"')


# The photo pools are made once per process, when the first user starts.
_photos: dict[str, PhotoPool] = {}


def photo_pool(kind: str) -> PhotoPool:
    if kind not in _photos:
        _photos[kind] = PhotoPool(CAMERA_PHOTOS if kind == "camera" else BIRD_PHOTOS)
    return _photos[kind]


class Visitor(FastHttpUser):
    abstract = True
    network_timeout = REQUEST_TIMEOUT_SECONDS
    connection_timeout = REQUEST_TIMEOUT_SECONDS
    wait_time = constant_throughput(1.0)

    def expect(self, response, status: int) -> None:
        """Marks the request failed, with what came back, unless it answered `status`."""
        if response.status_code != status:
            body = (response.text or "")[:200] if response.content else ""
            response.failure(f"{response.status_code} (expected {status}): {body}")

    def upload(self, path: str, name: str, photo: bytes, headers: dict | None = None):
        body, form_headers = multipart_file("image", "photo.jpg", photo)
        return self.client.post(
            path,
            data=body,
            headers={**form_headers, **(headers or {})},
            name=name,
            catch_response=True,
        )


class AnonymousVisitor(Visitor):
    """Classifies a bird photo without signing in, on the home page."""

    weight = 1
    static_files: list[str] = []

    def on_start(self) -> None:
        # The static files the page really links to (names may carry a content hash).
        with self.client.get(HOME_PAGE, name=HOME_PAGE, catch_response=True) as response:
            self.expect(response, 200)
            found = STATIC_LINK.findall(response.text or "")
        self.static_files = found or ["/static/birdai/site.css"]

    @task(4)
    def classify(self) -> None:
        with self.upload(CLASSIFY, CLASSIFY, photo_pool("bird").next()) as response:
            self.expect(response, 200)
            if response.status_code == 200 and "is_bird" not in (response.text or ""):
                response.failure("no is_bird in the answer")

    @task(2)
    def home_page(self) -> None:
        with self.client.get(HOME_PAGE, name=HOME_PAGE, catch_response=True) as response:
            self.expect(response, 200)

    @task(4)
    def static_file(self) -> None:
        path = pick.choice(self.static_files)
        with self.client.get(path, name=STATIC, catch_response=True) as response:
            self.expect(response, 200)


class SignedInUser(Visitor):
    """Keeps photos in a history: uploads, lists them, opens one, looks at the map.

    The first `sessions` users sign in through the log-in page (the /history/ page
    needs a session); the API calls send the API token, which the app checks before
    any session.
    """

    weight = 2
    # Set by the runner before the run: every user takes the next credentials in turn.
    credentials: list[Credentials] = []
    # Only the first few users sign in through the log-in page (and so also open the
    # /history/ page; the others list their history through the API instead). Each
    # log-in costs the server a password hash, and the app allows 300 log-ins an hour
    # from one address (LOGIN_RATE_PER_ADDRESS): 10 a run leaves room for 30 runs.
    sessions = 10
    _next_credentials = itertools.count()

    def on_start(self) -> None:
        if not self.credentials:
            raise RuntimeError("SignedInUser.credentials is empty: make users first")
        number = next(self._next_credentials)
        self.me = self.credentials[number % len(self.credentials)]
        self.auth = {"Authorization": f"Bearer {self.me.token}"}
        self.submission_ids: list[int] = []
        wants_session = number < self.sessions and bool(self.me.password)
        self.signed_in = wants_session and self.sign_in()
        if self.signed_in:
            self.history_page()  # where a user who signs in looks first

    def sign_in(self) -> bool:
        login = LOGIN_PAGE
        with self.client.get(login, name=login, catch_response=True) as response:
            self.expect(response, 200)
        csrf = next((c.value for c in self.client.cookiejar if c.name == "csrftoken"), "")
        form = {"username": self.me.username, "password": self.me.password}
        with self.client.post(
            login,
            data={**form, "csrfmiddlewaretoken": csrf},
            headers={"Referer": self.host + login},
            name=login,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            self.expect(response, 302)  # to the account page: signed in
        return any(c.name == "sessionid" for c in self.client.cookiejar)

    def api_get(self, path: str, name: str):
        """A GET of the API with this user's token, counted under `name`."""
        return self.client.get(path, headers=self.auth, name=name, catch_response=True)

    @task(4)
    def upload_to_history(self) -> None:
        photo = photo_pool("camera").next()
        with self.upload(SUBMISSIONS, SUBMISSIONS, photo, self.auth) as response:
            # 201: a new submission. 200 would be the dedupe answering: these bytes
            # were sent before, which the load test must never do.
            self.expect(response, 201)
            if response.status_code == 201:
                self.submission_ids.append(response.json()["id"])

    @task(6)
    def history_list(self) -> None:
        with self.api_get(f"{SUBMISSIONS}?page=1&page_size={PAGE_SIZE}", SUBMISSIONS) as response:
            self.expect(response, 200)
            if response.status_code == 200:
                items = response.json()["items"]
                self.submission_ids += [item["id"] for item in items[:5]]
                del self.submission_ids[:-50]  # remember a few, not all

    @task(4)
    def history_detail(self) -> None:
        if not self.submission_ids:
            return self.history_list()  # nothing to open yet
        submission_id = pick.choice(self.submission_ids)
        with self.api_get(f"{SUBMISSIONS}/{submission_id}", SUBMISSION) as response:
            self.expect(response, 200)

    @task(4)
    def map_locations(self) -> None:
        bbox = pick.choice(VIEWPORTS)
        with self.api_get(f"{LOCATIONS}?bbox={bbox}", LOCATIONS) as response:
            self.expect(response, 200)

    @task(2)
    def history_page(self) -> None:
        if not self.signed_in:
            return self.history_list()  # no session for pages: the API instead
        with self.client.get(
            HISTORY_PAGE, name=HISTORY_PAGE, allow_redirects=False, catch_response=True
        ) as response:
            self.expect(response, 200)  # signed out, it would redirect to the log-in page


USER_CLASSES = [AnonymousVisitor, SignedInUser]
