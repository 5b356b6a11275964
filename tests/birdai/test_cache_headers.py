"""Cache-Control on every answer (birdai/cache_headers.py): public for what is the same for
everyone, private, no-store for anything per user, no-cache for the rest.

Every URL the app has is requested (ROUTES must name each one: a test checks it against
the URLconf, so a new page cannot go untested), anonymously, signed in by session and by
API token. tests/birdai/test_security_headers.py checks the per-user pages with data in
them; the stack's tests check the headers through a real server.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.cache import get_max_age

from accounts.models import ApiToken
from birdai.cache_headers import PUBLIC_MAX_AGE
from history.models import Submission  # ASSIGNMENT 2
from tooling.photos import skimage_photo

pytestmark = pytest.mark.django_db

# Each route of the URLconf (as Django prints it) and a path that reaches it. The admin's
# own routes are checked by a few of its pages below: all of them are staff-only.
ROUTES = {
    "": "/",
    "api/v1/openapi.json": "/api/v1/openapi.json",
    "api/v1/docs": "/api/v1/docs",
    "api/v1/classify": "/api/v1/classify",
    "api/v1/me": "/api/v1/me",
    "api/v1/signup": "/api/v1/signup",
    "api/v1/token": "/api/v1/token",
    "api/v1/submissions": "/api/v1/submissions",  # ASSIGNMENT 2
    "api/v1/submissions/<submission_id>": "/api/v1/submissions/{id}",  # ASSIGNMENT 2
    "api/v1/locations": "/api/v1/locations?bbox=-180,-90,180,90",  # ASSIGNMENT 2
    "api/v1/": "/api/v1/",
    "account/signup/": "/account/signup/",
    "account/login/": "/account/login/",
    "account/logout/": "/account/logout/",
    "account/password/": "/account/password/",
    "account/password/done/": "/account/password/done/",
    "account/": "/account/",
    "account/tokens/<int:token_id>/revoke/": "/account/tokens/{token}/revoke/",
    "history/": "/history/",  # ASSIGNMENT 2
    "history/upload/": "/history/upload/",  # ASSIGNMENT 2
    "history/<int:submission_id>/": "/history/{id}/",  # ASSIGNMENT 2
    "history/<int:submission_id>/delete/": "/history/{id}/delete/",  # ASSIGNMENT 2
    "map/": "/map/",  # ASSIGNMENT 2
    "map/all/": "/map/all/",  # ASSIGNMENT 2
    "healthz": "/healthz",
    "readyz": "/readyz",
    "^media/(?P<path>.+)$": "{photo}",  # ASSIGNMENT 2
}
ADMIN_PAGES = [
    "/admin/",
    "/admin/login/",
    "/admin/history/submission/",  # ASSIGNMENT 2
]
# The same for everyone, whoever asks (birdai/cache_headers.py, PUBLIC_VIEWS).
PUBLIC = {"/", "/api/v1/openapi.json", "/api/v1/docs"}
HEALTH_CHECKS = {"/healthz", "/readyz"}


def routes(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":
                yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def test_every_route_is_checked():
    assert set(routes(get_resolver().url_patterns)) == set(ROUTES)


def directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


def vary(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",") if part}


@pytest.fixture
def sam(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return get_user_model().objects.create_user("sam", password="unused-here-1", is_staff=True)


@pytest.fixture
def paths(sam) -> list[str]:
    """Every route's path, with a real submission, token and photo of sam's in it."""
    ApiToken.issue(sam, "test")
    values = {"token": ApiToken.objects.filter(user=sam).first().pk}
    # BEGIN ASSIGNMENT 2
    _, token = ApiToken.issue(sam, "submissions")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    photo = SimpleUploadedFile("cup.png", skimage_photo("coffee.png"))
    created = client.post("/api/v1/submissions", {"image": photo})
    assert created.status_code == 201, created.content
    submission = Submission.objects.get(pk=created.json()["id"])
    values |= {"id": submission.pk, "photo": submission.image.url}
    # END ASSIGNMENT 2
    return [path.format(**values) for path in ROUTES.values()] + ADMIN_PAGES


def signed_in_by(how: str, user) -> Client:
    if how == "session":
        client = Client()
        client.force_login(user)
        return client
    _, token = ApiToken.issue(user, "cache headers")
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("how", ["session", "token"])
def test_nothing_a_signed_in_user_gets_may_be_kept_by_others(paths, sam, how):
    client = signed_in_by(how, sam)
    for path in paths:
        response = client.get(path)
        if path.startswith("/media/") and how == "session":
            # A photo's long random key is a link that works for whoever holds it (the
            # same bytes for all, tests/birdai/test_security_headers.py): not per user,
            # but not public either: a cache asks each time (a deleted photo is gone).
            assert directives(response) == {"no-cache"}, path
            continue
        if path in HEALTH_CHECKS:  # never_cache, and the same for anyone (birdai/health.py)
            assert {"private", "no-store"} <= directives(response), path
            continue
        if path in PUBLIC and how == "session":
            # The same bytes for everyone: it did not even read the session.
            assert "public" in directives(response), path
            assert "cookie" not in vary(response), path
            continue
        assert {"private", "no-store"} <= directives(response), (path, response.status_code)
        assert {"cookie", "authorization"} <= vary(response), path


def test_every_anonymous_answer_says_whether_it_may_be_kept(paths):
    client = Client()
    for path in paths:
        response = client.get(path)
        cache_control = directives(response)
        assert cache_control, f"{path} ({response.status_code}) has no Cache-Control"
        if path in PUBLIC:
            assert "public" in cache_control
            assert get_max_age(response) == PUBLIC_MAX_AGE
        else:
            assert "public" not in cache_control, path
        if response.cookies:
            assert {"private", "no-store"} <= cache_control, path


@pytest.mark.parametrize("path", sorted(PUBLIC))
def test_public_pages_set_no_cookie_and_do_not_vary(path):
    response = Client().get(path)
    assert response.status_code == 200
    assert not response.cookies
    assert directives(response) == {"public", f"max-age={PUBLIC_MAX_AGE}"}
    assert "cookie" not in vary(response)


def test_the_home_page_form_works_without_a_csrf_cookie():
    """Why `/` can be shared: its form classifies and stores nothing, so it needs no CSRF
    token (classifier/views.py), and the page sets no cookie."""
    client = Client(enforce_csrf_checks=True)
    page = client.get("/")
    assert b"csrfmiddlewaretoken" not in page.content
    photo = SimpleUploadedFile("cup.png", skimage_photo("coffee.png"))
    answer = client.post("/", {"image": photo})
    assert answer.status_code == 200
    assert {"private", "no-store"} <= directives(answer)  # the answer is about your photo


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api/v1/classify",
        "/api/v1/submissions",  # ASSIGNMENT 2
    ],
)
def test_posts_are_never_kept(path):
    response = Client().post(path)
    assert {"private", "no-store"} <= directives(response), response.status_code


def test_errors_are_never_kept():
    for path in ["/no-such-page/", "/api/v1/no-such-thing"]:
        response = Client().get(path)
        assert response.status_code == 404
        assert {"private", "no-store"} <= directives(response)


def test_a_redirect_anyone_gets_must_be_checked_each_time():
    response = Client().get("/account")  # APPEND_SLASH's redirect, the same for everyone
    assert response.status_code == 301
    assert directives(response) == {"no-cache"}


def test_a_head_request_gets_the_same_headers_as_get():
    assert Client().head("/")["Cache-Control"] == Client().get("/")["Cache-Control"]
