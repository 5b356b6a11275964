"""The checks over HTTP: what a student's running deployment must do, asked of it the way
a user's browser or script would (issue #16, item 4).

Each check is one line of the student's results. It passes, or raises DeploymentWrong
with what was expected, what came back and where to look (autograder/checks.py). The
checks share one GradingState (autograder/http_state.py): the two users the grader
signs up and user A's upload are made once, by whichever check needs them first.

`CHECKS` is the list the runner grades with; `checks()` makes a new list with a state
of its own, for a second grading in the same process (the tests grade several
deployments). A list's state belongs to the first URL it grades, and starts again if
asked about another one.
"""

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from autograder.checks import Check, DeploymentWrong, Slip
from autograder.http_client import Answer, Client
from autograder.http_state import GradingState, User
from autograder.load_check import LOAD_SECONDS, LOAD_USERS, load_test
from autograder.photos import (
    GPS_LATITUDE,
    GPS_LONGITUDE,
    GPS_PHOTO,
    POSITION_TOLERANCE_DEGREES,
    inspect,
    looks_like,
    read_testdata,
)

# What the reference deployment's model answers for the photos the grader classifies,
# and the command that asked it (autograder/reference_answers.py).
REFERENCE_ANSWERS = json.loads((Path(__file__).parent / "reference_answers.json").read_text())
# Several app servers: how many requests to send, and how many must answer.
SERVED_BY_REQUESTS = 20
SERVED_BY_MINIMUM = 2
# The query parameters of a signed link: CloudFront's, or S3's presigned ones.
CLOUDFRONT_SIGNED = {"Signature", "Key-Pair-Id"}
S3_SIGNED = {"X-Amz-Signature"}


# --- health -------------------------------------------------------------------------------


def health(state: GradingState) -> str:
    alive = state.client.get("/healthz")
    if alive.status != 200:
        raise DeploymentWrong(
            f"GET /healthz should answer 200 while the app runs: {alive.describe()}. A load "
            "balancer takes an app server that fails it out of service (README, 'The API')."
        )
    ready = state.client.get("/readyz")
    if ready.status != 200:
        failing = ""
        if ready.header("content-type").startswith("application/json"):
            failing = f" It names what fails: {ready.fields().get('failing')}."
        raise DeploymentWrong(
            f"GET /readyz should answer 200 when the database, the model and file storage "
            f"all work: {ready.describe()}.{failing} Check that part's settings "
            "(DATABASE_URL, CLASSIFIER_ONNX_PATH, AWS_STORAGE_BUCKET_NAME) and the app "
            "server's log."
        )
    return "/healthz and /readyz answer 200"


# --- classify -----------------------------------------------------------------------------


def classify(state: GradingState, which: str) -> str:
    expected = REFERENCE_ANSWERS["photos"][which]
    photo = expected["photo"]
    answer = state.client.post(
        "/api/v1/classify",
        files={"image": (Path(photo).name, read_testdata(photo), "image/png")},
    )
    if answer.status != 200:
        raise DeploymentWrong(
            f"Classifying {photo} should answer 200 with the classification: {answer.describe()}"
        )
    body = answer.fields()
    label = (body.get("top_class") or {}).get("label")
    if body.get("is_bird") is not expected["is_bird"] or label != expected["top_class"]:
        raise DeploymentWrong(
            f"The reference model classifies {photo} as {expected['top_class']!r} "
            f"(is_bird {expected['is_bird']}); this deployment answered {label!r} (is_bird "
            f"{body.get('is_bird')}). Is it running the repository's model and labels "
            "(manage.py export_onnx; CLASSIFIER_LABELS, CLASSIFIER_BIRD_THRESHOLD left at "
            "their defaults)? See docs/classifier.md."
        )
    return f"{photo}: {label!r}, is_bird {body['is_bird']}, as the reference model says"


# --- accounts and the history ---------------------------------------------------------------


def sign_up_two_users(state: GradingState) -> str:
    user_a, user_b = state.users()
    # The other way to a token: a user name and password (POST /api/v1/token).
    credentials = {"username": user_a.username, "password": user_a.password}
    answer = state.client.post("/api/v1/token", json=credentials)
    token = answer.fields().get("token") if answer.status == 201 else None
    if not token or state.client.get("/api/v1/me", headers=bearer(token)).status != 200:
        raise DeploymentWrong(
            f"POST /api/v1/token with user A's user name and password should answer 201 "
            f"with a working token: {answer.describe()}"
        )
    return f"signed up {user_a.username} and {user_b.username}; their tokens work"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload_with_gps(state: GradingState) -> str:
    _, submission = state.uploaded()
    location = submission.get("location") or {}
    latitude, longitude = location.get("latitude"), location.get("longitude")
    if (
        not isinstance(latitude, (int, float))
        or not isinstance(longitude, (int, float))
        or abs(latitude - GPS_LATITUDE) > POSITION_TOLERANCE_DEGREES
        or abs(longitude - GPS_LONGITUDE) > POSITION_TOLERANCE_DEGREES
        or location.get("source") != "exif"
    ):
        raise DeploymentWrong(
            f"The uploaded photo ({GPS_PHOTO}) was taken at {GPS_LATITUDE:.5f}, "
            f"{GPS_LONGITUDE:.5f} (its EXIF GPS data); the submission says location "
            f"{location or None}. The position must be read from the photo before its "
            "metadata is removed (geo/exif.py, history/revealed.py)."
        )
    return f"submission {submission.get('id')} at {latitude:.5f}, {longitude:.5f} (from EXIF)"


def user_a_and_upload(state: GradingState) -> tuple[User, dict]:
    user_a, _ = state.users()
    _, submission = state.uploaded()
    return user_a, submission


def history_list_and_detail(state: GradingState) -> str:
    user_a, submission = user_a_and_upload(state)
    listed = state.client.get("/api/v1/submissions", headers=user_a.auth)
    items = listed.fields().get("items") if listed.status == 200 else None
    if not isinstance(items, list) or submission["id"] not in [item.get("id") for item in items]:
        raise DeploymentWrong(
            f"User A's history list should hold the photo they just uploaded (id "
            f"{submission['id']}): {listed.describe()}"
        )
    detail = state.client.get(f"/api/v1/submissions/{submission['id']}", headers=user_a.auth)
    if detail.status != 200 or detail.fields().get("sha256") != submission.get("sha256"):
        raise DeploymentWrong(
            f"GET /api/v1/submissions/{submission['id']} should answer user A's submission: "
            f"{detail.describe()}"
        )
    return f"the list holds submission {submission['id']}, and its page answers"


# --- the stored photo, through the CDN --------------------------------------------------------


def fetch_stored_photo(state: GradingState) -> tuple[str, Answer]:
    """The submission's image link and what it answered."""
    _, submission = state.uploaded()
    url = submission.get("image_url") or ""
    answer = state.client.get(url)
    if answer.status != 200 or not answer.header("content-type").startswith("image/"):
        raise DeploymentWrong(
            f"The stored photo's link (image_url) should answer 200 with the image: "
            f"{answer.describe()}"
        )
    return url, answer


def cache_verdict(answer: Answer) -> str:
    """The cache's verdict, "hit", "miss" or "" (no cache said anything): CloudFront's
    X-Cache ("Hit from cloudfront") or an nginx cache's X-Cache-Status (HIT, MISS...)."""
    said = (answer.header("x-cache") or answer.header("x-cache-status")).lower()
    if not said:
        return ""
    return "hit" if said.startswith(("hit", "refreshhit")) else "miss"


def photo_through_the_cdn(state: GradingState) -> str:
    url, _ = state.step("the stored photo fetched", lambda: fetch_stored_photo(state))
    link, site = urlsplit(url), urlsplit(state.client.base_url)
    signed = set(parse_qs(link.query))
    where = (
        "docs/s3-cloudfront.md: AWS_S3_CUSTOM_DOMAIN (the CloudFront domain), "
        "AWS_CLOUDFRONT_KEY_ID and AWS_CLOUDFRONT_KEY_FILE"
    )
    if not link.netloc or link.netloc == site.netloc:
        raise DeploymentWrong(
            f"The stored photo should come through the CDN, from a host of its own; the upload "
            f"answered a link served by the app itself ({url}): each photo then costs an app "
            f"server a request. See {where}."
        )
    if not (CLOUDFRONT_SIGNED <= signed or S3_SIGNED <= signed):
        raise DeploymentWrong(
            f"The stored photo's link is not signed ({url}): the bucket must stay private, "
            f"and links signed and expiring. See {where}."
        )
    second = state.client.get(url)
    if second.status != 200:
        raise DeploymentWrong(f"Fetching the photo a second time failed: {second.describe()}")
    if cache_verdict(second) != "hit":
        said = second.header("x-cache") or second.header("x-cache-status") or "no X-Cache header"
        raise DeploymentWrong(
            f"The second fetch of the photo should be a CDN cache hit (X-Cache: Hit from "
            f"cloudfront); it said {said!r}. A link straight to S3 bypasses the CDN; a "
            f"CloudFront behaviour that does not cache (a caching-disabled policy) too. "
            f"See {where}."
        )
    return f"{link.netloc} served the signed link, and the second fetch was a cache hit"


def photo_clean_and_upright(state: GradingState) -> str:
    sent, _ = state.uploaded()
    url, answer = state.step("the stored photo fetched", lambda: fetch_stored_photo(state))
    try:
        served = inspect(answer.body)
    except ValueError as error:
        raise DeploymentWrong(f"The stored photo at {url} cannot be read: {error}") from None
    if served.metadata:
        raise DeploymentWrong(
            f"The stored copy of a photo must carry no metadata; it still has "
            f"{', '.join(served.metadata)}. The uploader's position and camera are private: "
            "save the pixels again without exif=, icc_profile= or comments (history/photos.py)."
        )
    width, height = served.size
    to_upright, to_wrong_turn = looks_like(answer.body, sent)
    if height <= width or to_upright >= to_wrong_turn:
        looks = "upright" if to_upright < to_wrong_turn else "turned the wrong way"
        raise DeploymentWrong(
            f"The uploaded photo's EXIF says to turn it 90 degrees clockwise (Orientation "
            f"6): stored upright it is taller than wide. The stored copy is {width} x "
            f"{height} and looks {looks}. Apply the orientation before removing the "
            "metadata (ImageOps.exif_transpose; history/photos.py)."
        )
    return f"a {served.format} of {width} x {height}, upright, without metadata"


def locations_hold_the_point(state: GradingState) -> str:
    user_a, submission = user_a_and_upload(state)
    query = f"near={GPS_LATITUDE},{GPS_LONGITUDE}&radius_km=1"
    answer = state.client.get(f"/api/v1/locations?{query}", headers=user_a.auth)
    features = answer.fields().get("features") if answer.status == 200 else None
    if not isinstance(features, list):
        raise DeploymentWrong(f"GET /api/v1/locations?{query} should answer GeoJSON: "
                              f"{answer.describe()}")  # fmt: skip
    for feature in features:
        if (feature.get("properties") or {}).get("id") != submission["id"]:
            continue
        point = (feature.get("geometry") or {}).get("coordinates")
        if not (isinstance(point, list) and len(point) == 2
                and all(isinstance(value, (int, float)) for value in point)):  # fmt: skip
            continue
        longitude, latitude = point
        if (
            abs(latitude - GPS_LATITUDE) <= POSITION_TOLERANCE_DEGREES
            and abs(longitude - GPS_LONGITUDE) <= POSITION_TOLERANCE_DEGREES
        ):
            return f"the map's locations hold submission {submission['id']} at its point"
    raise DeploymentWrong(
        f"GET /api/v1/locations?{query} should hold user A's photo (id {submission['id']}) "
        f"at [{GPS_LONGITUDE:.5f}, {GPS_LATITUDE:.5f}]; it answered {answer.excerpt(300)}. "
        "Is the position stored as a PostGIS point (history/locations.py)?"
    )


def user_isolation(state: GradingState) -> str:
    _, user_b = state.users()
    _, submission = state.uploaded()
    path = f"/api/v1/submissions/{submission['id']}"
    answer = state.client.get(path, headers=user_b.auth)
    if answer.status not in (403, 404):
        raise DeploymentWrong(
            f"User B asked for user A's submission ({path}) and got {answer.status}: "
            f"{answer.excerpt(200)}. Another user's photo must answer 404 (or 403): filter "
            "every query by its owner (history/lookups.py)."
        )
    listed = state.client.get("/api/v1/submissions", headers=user_b.auth)
    if submission["id"] in [item.get("id") for item in listed.fields().get("items") or []]:
        raise DeploymentWrong(
            "User B's history list (GET /api/v1/submissions) holds user A's submission "
            f"{submission['id']}: a user's list must hold only their own photos."
        )
    return f"user B got {answer.status} for user A's submission, and does not list it"


# --- bad input ---------------------------------------------------------------------------------

NOT_A_PHOTO = b"This is a text file, not a photo.\n"


def bad_input(state: GradingState) -> str:
    user_a, _ = state.users()
    truncated = read_testdata(GPS_PHOTO)[:4000]
    attempts = [
        ("classify a text file", "/api/v1/classify",
         {"files": {"image": ("notes.jpg", NOT_A_PHOTO, "image/jpeg")}}),
        ("classify a truncated JPEG", "/api/v1/classify",
         {"files": {"image": ("cut.jpg", truncated, "image/jpeg")}}),
        ("classify without the image field", "/api/v1/classify",
         {"files": {"picture": ("a.jpg", truncated, "image/jpeg")}}),
        ("upload a text file to the history", "/api/v1/submissions",
         {"files": {"image": ("notes.jpg", NOT_A_PHOTO, "image/jpeg")}, "headers": user_a.auth}),
        ("sign up without a password", "/api/v1/signup",
         {"json": {"username": user_a.username + "-x"}}),
    ]  # fmt: skip
    wrong = []
    for what, path, options in attempts:
        answer = state.client.post(path, **options)
        if not 400 <= answer.status < 500:
            wrong.append(f"{what} (POST {path}): {answer.status} {answer.excerpt(120)}")
    if wrong:
        raise DeploymentWrong(
            "Bad input must get a 4xx answer that says what is wrong (400, 413, 415...), "
            "never a 5xx (a crash) or a 2xx: " + "; ".join(wrong) + ". Validate the upload "
            "before using it (shared/uploads.py, classifier/images.py; README 'The API')."
        )
    return f"all {len(attempts)} bad requests got a 4xx"


# --- the N-tier shape ----------------------------------------------------------------------------


def several_app_servers(state: GradingState) -> str:
    names = []
    for _ in range(SERVED_BY_REQUESTS):
        answer = state.client.get("/healthz")
        names.append(answer.header("x-served-by"))
    seen = sorted(set(filter(None, names)))
    if len(seen) < SERVED_BY_MINIMUM:
        said = f"only {seen}" if seen else "no X-Served-By header"
        raise DeploymentWrong(
            f"{SERVED_BY_REQUESTS} requests for /healthz should be answered by at least "
            f"{SERVED_BY_MINIMUM} app servers (their X-Served-By headers); they carried {said}. "
            "Run two or more app servers behind the load balancer, each with its own "
            "APP_SERVER_NAME (README, 'Configuration'; docs/scaling.md)."
        )
    return f"{len(seen)} app servers answered: {', '.join(seen)}"


def proxy_cache(state: GradingState) -> str:
    said = []
    for _ in range(3):  # the first may be the miss that fills the cache
        answer = state.client.get("/")
        status = answer.header("x-cache-status") or answer.header("x-cache")
        said.append(status or "(no header)")
        if answer.status == 200 and cache_verdict(answer) == "hit":
            return f"the home page came from the proxy's cache ({status})"
    raise DeploymentWrong(
        f"The anonymous home page (GET /, Cache-Control: public, max-age=60) should come "
        f"from the proxy's cache the second time (X-Cache-Status: HIT); the answers said "
        f"{', '.join(said)}. Put nginx with docker/nginx/proxy.conf.template (proxy_cache) in "
        "front of the app servers, and leave birdai/cache_headers.py's public pages public."
    )


# --- the list ----------------------------------------------------------------------------------

# (name, points, the check, tags), in the order the student reads them.
PLAN: list[tuple[str, float, Callable[[GradingState], str], tuple[str, ...]]] = [
    ("Health and readiness (/healthz, /readyz)", 2, health, ("http",)),
    ("Classify a known bird", 2, lambda state: classify(state, "bird"), ("http", "classifier")),
    ("Classify a known non-bird", 2, lambda state: classify(state, "not_bird"),
     ("http", "classifier")),
    ("Sign up two users through the JSON API", 2, sign_up_two_users, ("http", "accounts")),
    ("Upload a photo with GPS to the history", 3, upload_with_gps, ("http", "history")),
    ("History list and detail", 2, history_list_and_detail, ("http", "history")),
    ("Stored photo served through the CDN (signed link, cache hit)", 3, photo_through_the_cdn,
     ("http", "cdn")),
    ("Stored photo has no metadata and is upright", 3, photo_clean_and_upright,
     ("http", "privacy")),
    ("The map's locations hold the photo's point", 2, locations_hold_the_point, ("http", "geo")),
    ("User B cannot see user A's photo", 3, user_isolation, ("http", "security")),
    ("Bad input gets a 4xx, not a 5xx", 2, bad_input, ("http", "robustness")),
    ("Several app servers answer (X-Served-By)", 2, several_app_servers, ("http", "n-tier")),
    ("The proxy cache answers the home page (X-Cache-Status: HIT)", 2, proxy_cache,
     ("http", "n-tier")),
]  # fmt: skip


class _StatePerUrl:
    """The GradingState of one list of checks: made for the first URL graded, made
    again if another URL is graded."""

    def __init__(self) -> None:
        self.state: GradingState | None = None

    def __call__(self, slip: Slip) -> GradingState:
        if self.state is None or self.state.client.base_url != slip.url.rstrip("/"):
            self.state = GradingState(Client(slip.url))
        return self.state


LOAD_TEST_NAME = "A bounded load test (failures and p95)"
LOAD_TEST_POINTS = 5


def checks(*, load_users: int = LOAD_USERS, load_seconds: float = LOAD_SECONDS,
           with_load_test: bool = True) -> list[Check]:  # fmt: skip
    """A new list of the HTTP checks, with a state of its own; the load test last, so
    that it finds the deployment as the other checks left it."""
    state_for = _StatePerUrl()

    def bound(check: Callable[[GradingState], str]) -> Callable[[Slip], str]:
        return lambda slip: check(state_for(slip))

    listed = [Check(name, points, bound(check), tags) for name, points, check, tags in PLAN]
    if with_load_test:

        def run_load_test(state: GradingState) -> str:
            return load_test(state, users=load_users, seconds=load_seconds)

        listed.append(Check(LOAD_TEST_NAME, LOAD_TEST_POINTS, bound(run_load_test), ("load",)))
    return listed


CHECKS: list[Check] = checks()
