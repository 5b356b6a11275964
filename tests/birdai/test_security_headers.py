"""Response headers that protect users (birdai/security_headers.py).

Cache-Control: every answer that depends on who asks is `private, no-store`, so no
cache shared by several people keeps one user's pages or GPS positions; pages that are
the same for everyone stay cacheable as before. Content-Security-Policy: the header and
the hosts it lets images come from (the browser tests check that every page works under
it in a real browser).
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile  # ASSIGNMENT 2
from django.templatetags.static import static
from django.utils.cache import get_max_age

from accounts.models import ApiToken
from birdai import security_headers
from history.models import Submission  # ASSIGNMENT 2
from tests.storages import s3_storages  # ASSIGNMENT 2
from tooling.photos import skimage_photo  # ASSIGNMENT 2

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return get_user_model().objects.create_user("alice", password="unused-here-1", is_staff=True)


@pytest.fixture
def bearer(alice) -> dict[str, str]:
    _, token = ApiToken.issue(alice, "test")
    return {"Authorization": f"Bearer {token}"}


# BEGIN ASSIGNMENT 2
@pytest.fixture
def submission(client, bearer) -> Submission:
    photo = SimpleUploadedFile("cup.png", skimage_photo("coffee.png"))
    response = client.post("/api/v1/submissions", {"image": photo}, headers=bearer)
    assert response.status_code == 201, response.content
    return Submission.objects.get(pk=response.json()["id"])


# END ASSIGNMENT 2
def cache_directives(response) -> set[str]:
    header = response.get("Cache-Control", "")
    return {part.strip() for part in header.split(",") if part.strip()}


def assert_private(response) -> None:
    assert response.status_code < 400, (response.status_code, response.content[:300])
    assert {"private", "no-store"} <= cache_directives(response), response.get("Cache-Control")


# --- Per-user answers: private, no-store ------------------------------------------------
# BEGIN ASSIGNMENT 2
PER_USER_PAGES = [
    "/history/",
    "/history/upload/",
    "/history/{id}/",
    "/map/",
    "/map/all/",
    "/account/",
    "/account/password/",
]


@pytest.mark.parametrize("path", PER_USER_PAGES)
def test_per_user_pages_are_private(client, alice, submission, path):
    client.force_login(alice)
    assert_private(client.get(path.format(id=submission.pk)))


# END ASSIGNMENT 2
def test_a_page_that_shows_a_new_token_is_private(client, alice):
    client.force_login(alice)
    assert_private(client.post("/account/", {"name": "laptop"}))


def test_a_page_that_asks_to_sign_in_is_private(client):
    # The redirect and the log-in form carry a CSRF token of this visitor's own.
    assert_private(client.get("/history/"))  # ASSIGNMENT 2
    assert_private(client.get("/account/login/"))


# BEGIN ASSIGNMENT 2
PER_USER_API = [
    "/api/v1/me",
    "/api/v1/submissions",
    "/api/v1/submissions/{id}",
    "/api/v1/locations?bbox=-180,-90,180,90",
]


@pytest.mark.parametrize("signed_in_by", ["token", "session"])
@pytest.mark.parametrize("path", PER_USER_API)
def test_the_apis_own_data_is_private(client, alice, bearer, submission, path, signed_in_by):
    headers = bearer if signed_in_by == "token" else {}
    if signed_in_by == "session":
        client.force_login(alice)
    assert_private(client.get(path.format(id=submission.pk), headers=headers))


def test_a_new_submission_is_private(client, bearer):
    photo = SimpleUploadedFile("cup.png", skimage_photo("coffee.png"))
    assert_private(client.post("/api/v1/submissions", {"image": photo}, headers=bearer))


# END ASSIGNMENT 2
# --- Answers that are the same for everyone: unchanged -------------------------------


@pytest.mark.parametrize("path", ["/", "/api/v1/openapi.json"])
def test_public_pages_stay_cacheable(client, alice, path):
    anonymous = client.get(path)
    client.force_login(alice)
    signed_in = client.get(path)
    for response in (anonymous, signed_in):
        assert response.status_code == 200
        assert not cache_directives(response) & {"private", "no-store", "no-cache"}


def test_static_files_stay_cacheable_for_everyone(client, alice, collected_static):
    client.force_login(alice)
    response = client.get(static("birdai/site.css"))
    assert response.status_code == 200
    assert get_max_age(response) > 0
    assert not cache_directives(response) & {"private", "no-store"}


# BEGIN ASSIGNMENT 2
def test_photos_on_the_local_disk_are_not_per_user(client, alice, submission):
    """A decision, not an accident: /media/ keys are long random names, links that work
    for whoever holds them like S3's signed ones, the same bytes for everyone, and the
    stored copies carry no metadata (no GPS). So they are not marked private, as the
    CDN caches them in S3 mode."""
    client.force_login(alice)
    response = client.get(submission.image.url)
    assert response.status_code == 200
    assert not cache_directives(response) & {"private", "no-store"}


# END ASSIGNMENT 2
# --- Content-Security-Policy ----------------------------------------------------------


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        directives[name] = values
    return directives


def test_pages_get_a_content_security_policy_without_inline_code(client):
    directives = csp_directives(client.get("/"))
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


# BEGIN ASSIGNMENT 2
def test_images_may_come_from_the_map_tiles_host(client, settings):
    settings.MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    assert "https://tiles.example.org" in csp_directives(client.get("/"))["img-src"]
    settings.MAP_TILE_URL = "https://{s}.tile.example.net/{z}/{x}/{y}.png"
    assert "https://*.tile.example.net" in csp_directives(client.get("/"))["img-src"]


def test_images_may_come_from_the_photos_s3_host(client, settings, s3_server):
    settings.STORAGES = s3_storages(s3_server, s3_server.create_bucket("csp-photos"))
    endpoint = s3_server.django_environment("csp-photos")["AWS_S3_ENDPOINT_URL"]
    assert endpoint.rstrip("/") in csp_directives(client.get("/"))["img-src"]


def test_images_may_come_from_the_cdn(client, settings, s3_server):
    storages = s3_storages(s3_server, "csp-cdn", custom_domain="cdn.example.com")
    settings.STORAGES = storages
    assert "https://cdn.example.com" in csp_directives(client.get("/"))["img-src"]


# END ASSIGNMENT 2
def test_photos_on_the_local_disk_need_no_other_host(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MAP_TILE_URL = "/tiles/{z}/{x}/{y}.png"  # ASSIGNMENT 2
    assert csp_directives(client.get("/"))["img-src"] == ["'self'", "data:"]


def test_a_storage_that_cannot_sign_links_does_not_break_pages():
    class Unsigned:
        def url(self, name):
            raise RuntimeError("no credentials yet")

    assert security_headers.photo_origin(Unsigned()) is None
