"""Per-user history with files on local storage (the embedded default): the upload
pipeline, the API and the pages. tests/history/test_submissions_on_s3.py runs it against real S3."""

import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from accounts.models import ApiToken
from history.models import Submission
from tests.conftest import csrf_headers
from tooling.photos import bird_jpeg, reencode, skimage_photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def bearer(user) -> dict[str, str]:
    _, token = ApiToken.issue(user, "test")
    return {"Authorization": f"Bearer {token}"}


def submit(client, user, data: bytes, filename: str):
    upload = SimpleUploadedFile(filename, data, content_type="application/octet-stream")
    return client.post("/api/v1/submissions", {"image": upload}, headers=bearer(user))


def cat_png(**options) -> bytes:
    """The same cat as different bytes: other PNG compression levels."""
    return reencode(skimage_photo("chelsea.png"), "PNG", **options)


def stored_files(media_root: Path) -> list[Path]:
    return sorted(path for path in media_root.rglob("*") if path.is_file())


# --- submitting ---------------------------------------------------------------------


def test_it_records_the_photo_its_thumbnail_and_the_answer(api_client, alice, media_root):
    flamingo = bird_jpeg()
    response = submit(api_client, alice, flamingo, "My Flamingo.JPG")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["classification"]["top_species"] == "flamingo"
    assert body["classification"]["is_bird"] is True
    assert len(body["classification"]["species"]) == 5
    assert body["original_filename"] == "My Flamingo.JPG"
    assert body["content_type"] == "image/jpeg"
    assert (body["width"], body["height"]) == Image.open(io.BytesIO(flamingo)).size

    submission = Submission.objects.get(pk=body["id"])
    assert submission.owner == alice
    stored = submission.image.read()  # a clean copy: the same pixels, no metadata
    assert body["byte_size"] == len(stored)
    assert Image.open(io.BytesIO(stored)).size == Image.open(io.BytesIO(flamingo)).size
    # The key is the app's own: the user's prefix and a random name, not "My Flamingo".
    assert re.fullmatch(rf"submissions/{alice.pk}/[\w-]{{22}}\.jpg", submission.image.name)
    thumbnail = Image.open(submission.thumbnail)
    assert thumbnail.format == "WEBP"
    assert max(thumbnail.size) == 320
    assert len(stored_files(media_root)) == 2


def test_it_takes_the_content_type_from_the_content(api_client, alice, media_root):
    png = reencode(skimage_photo("chelsea.png"), "PNG")
    body = submit(api_client, alice, png, "cat.png").json()
    assert body["content_type"] == "image/png"
    assert body["image_url"].endswith(".png")


def test_the_same_bytes_twice_are_one_submission(api_client, alice, media_root):
    photo = skimage_photo("coffee.png")
    first = submit(api_client, alice, photo, "coffee.png")
    again = submit(api_client, alice, photo, "coffee-again.png")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Submission.objects.count() == 1
    assert len(stored_files(media_root)) == 2


def test_the_same_bytes_from_two_users_are_two_submissions(api_client, alice, bob, media_root):
    photo = skimage_photo("coffee.png")
    assert submit(api_client, alice, photo, "coffee.png").status_code == 201
    assert submit(api_client, bob, photo, "coffee.png").status_code == 201


def test_it_needs_a_user(api_client, media_root):
    upload = SimpleUploadedFile("cat.png", skimage_photo("chelsea.png"))
    response = api_client.post("/api/v1/submissions", {"image": upload})
    assert response.status_code == 401
    assert stored_files(media_root) == []


def test_a_storage_failure_is_a_503_and_records_nothing(api_client, alice, settings, tmp_path):
    # A media root that is a file, not a folder: the disk refuses every save.
    settings.MEDIA_ROOT = tmp_path / "not-a-folder"
    settings.MEDIA_ROOT.write_bytes(b"")
    response = submit(api_client, alice, skimage_photo("coffee.png"), "coffee.png")
    assert response.status_code == 503
    assert response.json()["error"] == "storage_unavailable"
    assert Submission.objects.count() == 0


def refuse_inserts_into_submissions() -> None:
    """A real database failure at the moment the row is written."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'inserts refused by the test'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON history_submission "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
        else:
            # SQLite's RAISE() is a constraint violation (IntegrityError, a bug: 500);
            # a table that has gone is the OperationalError an outage raises.
            cursor.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON history_submission "
                "BEGIN INSERT INTO table_gone_in_the_outage VALUES (1); END"
            )


def test_a_database_failure_after_storing_deletes_the_files(api_client, alice, media_root):
    refuse_inserts_into_submissions()
    response = submit(api_client, alice, skimage_photo("coffee.png"), "coffee.png")
    assert response.status_code == 503
    assert response.json()["error"] == "database_unavailable"
    assert stored_files(media_root) == []  # both files were written, then deleted


# --- reading and deleting through the API -------------------------------------------


def test_it_lists_my_submissions_newest_first(api_client, alice, bob, media_root):
    ids = [
        submit(api_client, alice, cat_png(compress_level=level), "cat.png").json()["id"]
        for level in (1, 2, 3)
    ]
    submit(api_client, bob, skimage_photo("coffee.png"), "coffee.png")

    body = api_client.get("/api/v1/submissions", headers=bearer(alice)).json()
    assert body["count"] == 3
    assert [item["id"] for item in body["items"]] == ids[::-1]

    page_two = api_client.get("/api/v1/submissions?page=2&page_size=2", headers=bearer(alice))
    assert [item["id"] for item in page_two.json()["items"]] == [ids[0]]


def test_another_users_submission_is_a_404_everywhere(api_client, client, alice, bob, media_root):
    submission_id = submit(api_client, alice, skimage_photo("coffee.png"), "coffee.png").json()
    submission_id = submission_id["id"]
    url = f"/api/v1/submissions/{submission_id}"

    assert api_client.get(url, headers=bearer(alice)).status_code == 200
    for method in (api_client.get, api_client.delete):
        response = method(url, headers=bearer(bob))
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
    client.force_login(bob)
    assert client.get(f"/history/{submission_id}/").status_code == 404
    assert client.post(f"/history/{submission_id}/delete/").status_code == 404
    assert Submission.objects.filter(pk=submission_id).exists()


def test_deleting_removes_the_row_and_the_files(
    api_client, alice, media_root, django_capture_on_commit_callbacks
):
    submission_id = submit(api_client, alice, skimage_photo("coffee.png"), "coffee.png").json()[
        "id"
    ]
    with django_capture_on_commit_callbacks(execute=True):  # the files go after the commit
        response = api_client.delete(f"/api/v1/submissions/{submission_id}", headers=bearer(alice))
    assert response.status_code == 204
    assert not Submission.objects.filter(pk=submission_id).exists()
    assert stored_files(media_root) == []


@pytest.mark.django_db(transaction=True)  # the files go once the deletion is committed
def test_deleting_on_the_page_removes_the_files(client, alice, media_root):
    submission_id = submit(client, alice, skimage_photo("coffee.png"), "coffee.png").json()["id"]
    client.force_login(alice)
    response = client.post(f"/history/{submission_id}/delete/")
    assert (response.status_code, response["Location"]) == (302, "/history/")
    assert stored_files(media_root) == []


def test_the_database_being_down_is_a_503(api_client, alice, media_root, database_cluster):
    headers = bearer(alice)
    connection.close()
    database_cluster.stop()
    try:
        response = api_client.get("/api/v1/submissions", headers=headers)
    finally:
        database_cluster.start()
        connection.close()
    assert response.status_code == 503
    assert response.json()["error"] == "database_unavailable"
    assert response["Retry-After"] == "10"


# --- who may call: tokens, sessions and CSRF -----------------------------------------


def cat_upload() -> dict:
    return {"image": SimpleUploadedFile("cat.png", skimage_photo("chelsea.png"))}


def test_a_post_without_any_credentials_is_a_401_not_a_csrf_403(api_client, media_root):
    # No session cookie: nothing a forged request could borrow, so CSRF does not apply.
    response = api_client.post("/api/v1/submissions", cat_upload())
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_a_revoked_token_is_told_it_is_not_authenticated(api_client, alice, media_root):
    headers = bearer(alice)
    ApiToken.objects.filter(user=alice).delete()
    response = api_client.post("/api/v1/submissions", cat_upload(), headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    response = api_client.delete("/api/v1/submissions/1", headers=headers)
    assert response.status_code == 401


def test_a_stale_session_cookie_is_a_401(api_client, media_root):
    api_client.cookies["sessionid"] = "no-such-session"
    response = api_client.post("/api/v1/submissions", cat_upload())
    assert response.status_code == 401


def test_a_signed_in_session_without_its_csrf_token_is_refused(api_client, alice, media_root):
    api_client.force_login(alice)
    response = api_client.post("/api/v1/submissions", cat_upload())
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "csrf_failed"
    assert "X-CSRFToken" in body["message"]
    assert Submission.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_signed_in_session_with_its_csrf_token_may_upload_and_delete(
    api_client, alice, media_root
):
    api_client.force_login(alice)
    headers = csrf_headers(api_client)
    response = api_client.post("/api/v1/submissions", cat_upload(), headers=headers)
    assert response.status_code == 201, response.content
    url = f"/api/v1/submissions/{response.json()['id']}"
    assert api_client.delete(url).json()["error"] == "csrf_failed"
    assert api_client.delete(url, headers=headers).status_code == 204


def test_reading_with_a_session_needs_no_csrf_token(api_client, alice):
    api_client.force_login(alice)
    assert api_client.get("/api/v1/me").json()["username"] == "alice"


# --- bad parameters are the client's mistake, not an outage -------------------------


@pytest.mark.parametrize(
    "query",
    [
        "page=99999999999999999999",  # past 2**63: was a 503 "database unavailable"
        "page=92233720368547758",  # times page_size 100, past 2**63
        "page=0",
        "page=-1",
        "page=two",
        "page_size=0",
    ],
)
def test_a_bad_page_is_a_400(api_client, alice, query):
    response = api_client.get(f"/api/v1/submissions?page_size=100&{query}", headers=bearer(alice))
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request"


def test_a_page_past_the_end_is_empty(api_client, alice):
    response = api_client.get("/api/v1/submissions?page=1000000", headers=bearer(alice))
    assert (response.status_code, response.json()["items"]) == (200, [])


@pytest.mark.parametrize("submission_id", ["99999999999999999999", "0"])
def test_an_id_that_cannot_exist_is_a_404(api_client, alice, submission_id):
    response = api_client.get(f"/api/v1/submissions/{submission_id}", headers=bearer(alice))
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


# --- the pages ----------------------------------------------------------------------


def test_the_history_page_shows_my_thumbnails(client, alice, bob, media_root):
    mine = Submission.objects.get(
        pk=submit(client, alice, skimage_photo("coffee.png"), "coffee.png").json()["id"]
    )
    submit(client, bob, skimage_photo("chelsea.png"), "cat.png")
    client.force_login(alice)
    html = client.get("/history/").content.decode()
    assert html.count('<img src="/media/submissions/') == 1
    assert mine.thumbnail.url in html
    thumbnail = client.get(mine.thumbnail.url)
    assert thumbnail.status_code == 200
    assert b"".join(thumbnail.streaming_content) == mine.thumbnail.open("rb").read()


def test_the_history_page_asks_for_a_log_in(client):
    response = client.get("/history/")
    assert (response.status_code, response["Location"]) == (302, "/account/login/?next=/history/")


def test_the_upload_page_stores_and_shows_the_submission(client, alice, media_root):
    client.force_login(alice)
    form = client.get("/history/upload/").content.decode()
    assert "csrfmiddlewaretoken" in form
    upload = SimpleUploadedFile("flamingo.jpg", bird_jpeg())
    response = client.post("/history/upload/", {"image": upload}, follow=True)
    submission = Submission.objects.get(owner=alice)
    assert response.redirect_chain == [(f"/history/{submission.pk}/", 302)]
    html = response.content.decode()
    assert 'id="verdict">It\'s a bird: probably a flamingo<' in html
    assert submission.image.url in html


def test_the_upload_page_shows_bad_input_as_a_form_error(client, alice, no_files_left_behind):
    client.force_login(alice)
    upload = SimpleUploadedFile("notes.jpg", b"plain text")
    response = client.post("/history/upload/", {"image": upload})
    assert response.status_code == 415
    assert "not a JPEG, PNG, WebP or HEIC" in response.content.decode()
    assert Submission.objects.count() == 0


def test_pages_answer_503_while_the_database_is_down(client, alice, database_cluster):
    client.force_login(alice)
    connection.close()
    database_cluster.stop()
    try:
        responses = [client.get(path) for path in ("/history/", "/account/", "/account/login/")]
    finally:
        database_cluster.start()
        connection.close()
    for response in responses:
        assert response.status_code == 503
        assert response["Retry-After"] == "10"
        assert "cannot reach its database" in response.content.decode()
