"""The upload page at / and the result page it renders."""

import re

from django.core.files.uploadedfile import SimpleUploadedFile

from tooling.photos import bird_jpeg, decompression_bomb_png, skimage_photo


def post_photo(client, data: bytes, filename: str):
    return client.post("/", {"image": SimpleUploadedFile(filename, data)})


def form_error(response) -> str:
    match = re.search(r'id="form-error"[^>]*>([^<]*)<', response.content.decode())
    assert match, "the page has no form-error element"
    return match.group(1).strip()


def test_it_shows_the_upload_form(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'id="dropzone"' in html
    assert "<progress" in html
    assert "classifier/upload" in html  # the script that adds drag and drop and progress
    assert form_error(response) == ""


def test_it_shows_the_species_of_a_bird(client):
    response = post_photo(client, bird_jpeg(), "flamingo.jpg")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="verdict">It\'s a bird: probably a flamingo<' in html
    assert 'src="data:image/jpeg;base64,' in html  # the photo itself, never stored
    assert html.count("<meter") == 5


def test_it_says_what_a_non_bird_looks_like(client):
    response = post_photo(client, skimage_photo("coffee.png"), "coffee.png")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="verdict">Not a bird<' in html
    assert "It looks most like" in html


def test_it_shows_bad_input_as_a_form_error(client, no_files_left_behind):
    response = post_photo(client, b"plain text", "notes.jpg")
    assert response.status_code == 415
    assert "not a JPEG, PNG, WebP or HEIC" in form_error(response)
    assert 'id="dropzone"' in response.content.decode()  # the form again, to retry


def test_it_shows_a_decompression_bomb_as_a_form_error(client, no_files_left_behind):
    response = post_photo(client, decompression_bomb_png(), "bomb.png")
    assert response.status_code == 413
    assert "pixels" in form_error(response)


def test_it_asks_for_a_file_when_none_was_sent(client):
    response = client.post("/", {})
    assert response.status_code == 400
    assert "No image was sent" in form_error(response)


def test_it_needs_no_csrf_token_to_classify(client):
    # The page is the same for everyone (cacheable); classifying changes nothing.
    from django.test import Client

    strict_client = Client(enforce_csrf_checks=True)
    response = post_photo(strict_client, skimage_photo("chelsea.png"), "cat.png")
    assert response.status_code == 200


def test_the_page_is_the_same_for_everyone(client, django_user_model):
    # Nothing per user (no CSRF token, no user name): a cache in front may serve it.
    anonymous = client.get("/")
    client.force_login(django_user_model.objects.create_user("alice"))
    signed_in = client.get("/")
    assert anonymous.content == signed_in.content
    assert "Cookie" not in signed_in.get("Vary", "")
    assert not signed_in.cookies
