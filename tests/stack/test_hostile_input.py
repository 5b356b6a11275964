"""Hostile input, gathered in one place: every kind is answered with a clear 4xx in the
API's JSON shape, {"error": <code>, "message": <sentence>}, and leaves nothing behind:
no row, no file, no traceback in the log.

Each upload kind goes through both upload endpoints, POST /api/v1/classify (anonymous)
and POST /api/v1/submissions (with a token). The client enforces CSRF checks, as a real
one meets them.

Not here: the memory-heavy images of issue #12 (a 7064x7064 all-zero RGBA PNG, a 16-bit
grey PNG, a 50 MP JPEG) are accepted by design; their memory bound is tested by the
memory work of that issue (a worker's peak RSS), not by a 4xx.
"""

import functools
import io
import logging
import os
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import ApiToken
from history.models import Submission
from tests.conftest import csrf_headers
from tooling.photos import decompression_bomb_png, reencode, skimage_photo

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/classify", "/api/v1/submissions"]
BOUNDARY = "hostile-input-boundary"


@pytest.fixture
def token(alice) -> str:
    _, token = ApiToken.issue(alice, "hostile input")
    return token


@pytest.fixture
def nothing_kept(no_files_left_behind, caplog):
    """No row and no file afterwards (no_files_left_behind checks the media root and the
    temp dir), and nothing logged with a traceback: bad input is not our failure."""
    with caplog.at_level(logging.INFO):
        yield
    assert Submission.objects.count() == 0
    tracebacks = [record.getMessage() for record in caplog.records if record.exc_info]
    assert tracebacks == []


def assert_refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == code
    assert len(body["message"]) > 10  # a sentence for a person, not just a code


def auth_for(url: str, token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if url.endswith("/submissions") else {}


# --- files that are not photos we take ------------------------------------------------


@functools.cache  # one encoding per format for the whole suite
def cat(format: str = "PNG", **options) -> bytes:
    return reencode(skimage_photo("chelsea.png"), format, **options)


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims another size (a JPEG "bomb")."""
    data = bytearray(cat("JPEG"))
    frame = data.index(b"\xff\xc0")  # baseline start-of-frame: length, precision, h, w
    struct.pack_into(">HH", data, frame + 5, height, width)
    return bytes(data)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_a_broken_checksum() -> bytes:
    data = bytearray(cat("PNG"))
    data[29] ^= 0xFF  # the IHDR chunk's CRC
    return bytes(data)


def png_with_hostile_chunks() -> bytes:
    """A PNG header, then a text chunk of 10 MB that decompresses from a few KB."""
    header = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    bomb = zlib.compress(b"\x00" * (10 * 1024 * 1024), 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"zTXt", b"comment\x00\x00" + bomb)
        + png_chunk(b"IEND", b"")
    )


def webp_header_only() -> bytes:
    return cat("WEBP")[:40]


def gif_html_polyglot() -> bytes:
    return b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;<script>alert(1)</script>" + b"\x00" * 64


def jpeg_magic_in_front_of_html() -> bytes:
    return b"\xff\xd8\xff\xe0<html><script>alert(document.cookie)</script></html>" * 20


def svg_with_script() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def zip_archive() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bird.jpg", cat("JPEG"))
    return buffer.getvalue()


def other_pillow_format(format: str) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(skimage_photo("chelsea.png"))).convert("RGB").save(buffer, format=format)
    return buffer.getvalue()


# (id, file bytes, file name, status, code)
HOSTILE_FILES = [
    ("empty-file", lambda: b"", "empty.jpg", 400, "empty_file"),
    ("plain-text-named-jpg", lambda: b"no pixels here\n" * 50, "bird.jpg", 415, "unsupported_type"),
    ("pdf", lambda: b"%PDF-1.7\n" + b"0" * 2000, "report.pdf", 415, "unsupported_type"),
    ("html-named-jpg", lambda: b"<html><body>hi</body></html>", "x.jpg", 415, "unsupported_type"),
    ("svg-with-script", svg_with_script, "vector.png", 415, "unsupported_type"),
    ("zip-named-jpg", zip_archive, "photos.jpg", 415, "unsupported_type"),
    ("elf-executable", lambda: b"\x7fELF\x02\x01\x01" + b"\x00" * 500, "a.jpg", 415,
     "unsupported_type"),
    ("random-bytes", lambda: os.urandom(4096), "noise.jpg", 415, "unsupported_type"),
    ("all-nul-bytes", lambda: b"\x00" * 4096, "zeros.png", 415, "unsupported_type"),
    ("gif", lambda: cat("GIF"), "cat.gif", 415, "unsupported_type"),
    ("bmp", lambda: other_pillow_format("BMP"), "cat.bmp", 415, "unsupported_type"),
    ("tiff", lambda: other_pillow_format("TIFF"), "cat.tif", 415, "unsupported_type"),
    ("ico", lambda: other_pillow_format("ICO"), "cat.ico", 415, "unsupported_type"),
    ("gif-html-polyglot", gif_html_polyglot, "poly.gif", 415, "unsupported_type"),
    ("jpeg-magic-before-html", jpeg_magic_in_front_of_html, "x.jpg", 400, "corrupt_image"),
    ("jpeg-named-png", lambda: cat("JPEG"), "cat.png", 415, "extension_mismatch"),
    ("png-named-jpg", lambda: cat("PNG"), "cat.jpg", 415, "extension_mismatch"),
    ("webp-named-gif", lambda: cat("WEBP"), "cat.gif", 415, "extension_mismatch"),
    ("truncated-jpeg", lambda: cat("JPEG")[:3000], "half.jpg", 400, "corrupt_image"),
    ("truncated-png", lambda: cat("PNG")[:5000], "half.png", 400, "corrupt_image"),
    ("truncated-webp", webp_header_only, "half.webp", 400, "corrupt_image"),
    ("png-broken-checksum", png_with_a_broken_checksum, "crc.png", 415, "unsupported_type"),
    ("png-text-chunk-bomb", png_with_hostile_chunks, "chunks.png", 400, "corrupt_image"),
    ("png-decompression-bomb", decompression_bomb_png, "bomb.png", 413, "too_many_pixels"),
    ("jpeg-declaring-65500-squared", lambda: jpeg_declaring(65500, 65500), "big.jpg", 413,
     "too_many_pixels"),
]  # fmt: skip


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(
    ("make", "filename", "status", "code"),
    [pytest.param(*case[1:], id=case[0]) for case in HOSTILE_FILES],
)
def test_a_hostile_file_is_refused(
    api_client, token, nothing_kept, url, make, filename, status, code
):
    upload = SimpleUploadedFile(filename, make(), content_type="image/jpeg")
    response = api_client.post(url, {"image": upload}, headers=auth_for(url, token))
    assert_refused(response, status, code)


@pytest.mark.parametrize("url", ENDPOINTS)
def test_a_file_over_the_size_limit_is_refused(api_client, token, nothing_kept, settings, url):
    settings.MAX_UPLOAD_BYTES = 100_000
    upload = SimpleUploadedFile("big.png", os.urandom(150_000))
    response = api_client.post(url, {"image": upload}, headers=auth_for(url, token))
    assert_refused(response, 413, "too_large")


# --- requests that are not a readable upload -----------------------------------------


def form_part(name: str, data: bytes, filename: str | None = None, extra: str = "") -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"Content-Disposition: {disposition}\r\n{extra}"
    if filename is not None:
        head += "Content-Type: image/png\r\n"
    return f"--{BOUNDARY}\r\n{head}\r\n".encode() + data + b"\r\n"


def multipart(*parts: bytes, closed: bool = True) -> bytes:
    return b"".join(parts) + (f"--{BOUNDARY}--\r\n".encode() if closed else b"")


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def photo_part(filename: str = "cat.png", extra: str = "") -> bytes:
    return form_part("image", cat("PNG"), filename, extra)


# (id, body, content type, status, code)
HOSTILE_REQUESTS = [
    ("no-image-field", lambda: multipart(form_part("photo", cat(), "cat.png")), MULTIPART,
     400, "missing_image"),
    ("image-as-a-text-field", lambda: multipart(form_part("image", b"cat.png")), MULTIPART,
     400, "missing_image"),
    ("ten-file-fields-but-no-image",
     lambda: multipart(*[form_part(f"f{n}", cat(), "cat.png") for n in range(10)]), MULTIPART,
     400, "missing_image"),
    ("multipart-without-boundary", lambda: multipart(photo_part()), "multipart/form-data",
     400, "invalid_request"),
    ("multipart-with-an-empty-boundary", lambda: multipart(photo_part()),
     "multipart/form-data; boundary=", 400, "invalid_request"),
    ("multipart-boundary-not-in-body", lambda: multipart(photo_part()),
     "multipart/form-data; boundary=another-one", 400, "missing_image"),
    ("multipart-never-closed", lambda: multipart(photo_part(), closed=False)[:-200],
     MULTIPART, 400, "missing_image"),
    ("filename-of-2000-characters", lambda: multipart(photo_part("a" * 1996 + ".png")),
     MULTIPART, 400, "invalid_request"),
    ("part-header-over-1-kb", lambda: multipart(photo_part(extra=f"X-Pad: {'p' * 2000}\r\n")),
     MULTIPART, 400, "invalid_request"),
    # Django drops a file whose name is nothing once cleaned, then reads its bytes as the
    # next part's headers: too long.
    ("filename-dot-dot", lambda: multipart(photo_part("..")), MULTIPART, 400, "invalid_request"),
    ("filename-only-slashes", lambda: multipart(photo_part("../../")), MULTIPART,
     400, "invalid_request"),
    ("filename-of-nul-bytes", lambda: multipart(photo_part("\x00\x00")), MULTIPART,
     400, "invalid_request"),
    ("too-many-fields", lambda: multipart(*[form_part(f"f{n}", b"x") for n in range(1001)]),
     MULTIPART, 400, "invalid_request"),
    ("too-many-files", lambda: multipart(*[form_part(f"f{n}", b"x", "x.png") for n in range(101)]),
     MULTIPART, 400, "invalid_request"),
    ("invalid-base64-part",
     lambda: multipart(form_part("image", b"!!!not base64!!!", "cat.png",
                                 "Content-Transfer-Encoding: base64\r\n")),
     MULTIPART, 400, "invalid_request"),
    ("text-field-over-2-5-mb", lambda: multipart(form_part("note", b"n" * (3 * 1024 * 1024))),
     MULTIPART, 413, "too_large"),
    ("json-body", lambda: b'{"image": "iVBORw0KGgo="}', "application/json", 400, "missing_image"),
    ("urlencoded-body", lambda: b"image=cat.png", "application/x-www-form-urlencoded",
     400, "missing_image"),
    ("raw-image-body", lambda: cat("PNG"), "image/png", 400, "missing_image"),
    ("plain-text-body", lambda: b"hello", "text/plain", 400, "missing_image"),
]  # fmt: skip


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(
    ("make", "content_type", "status", "code"),
    [pytest.param(*case[1:], id=case[0]) for case in HOSTILE_REQUESTS],
)
def test_an_unreadable_upload_request_is_refused(
    api_client, token, nothing_kept, url, make, content_type, status, code
):
    response = api_client.generic(
        "POST", url, make(), content_type=content_type, headers=auth_for(url, token)
    )
    assert_refused(response, status, code)


# --- who is asking ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no-credentials"),
        pytest.param("Bearer", id="bearer-without-a-token"),
        pytest.param("Bearer bird_" + "x" * 43, id="made-up-token"),
        pytest.param("Bearer " + "x" * 10_000, id="token-of-10-kb"),
        pytest.param("Basic YWxpY2U6c2VjcmV0", id="basic-auth"),
    ],
)
@pytest.mark.parametrize("method", ["post", "delete"])
def test_a_write_without_valid_credentials_is_a_401(
    api_client, nothing_kept, method, authorization
):
    headers = {"Authorization": authorization} if authorization else {}
    if method == "post":
        response = api_client.post("/api/v1/submissions", {"image": cat_file()}, headers=headers)
    else:
        response = api_client.delete("/api/v1/submissions/1", headers=headers)
    assert_refused(response, 401, "not_authenticated")


def cat_file() -> SimpleUploadedFile:
    return SimpleUploadedFile("cat.png", cat("PNG"))


@pytest.mark.parametrize(
    "csrf_token",
    [
        pytest.param(None, id="no-csrf-token"),
        pytest.param("forged" * 6, id="forged-csrf-token"),
    ],
)
def test_a_session_write_without_its_csrf_token_is_refused(
    api_client, alice, nothing_kept, csrf_token
):
    api_client.force_login(alice)
    csrf_headers(api_client)  # the browser has its cookie; the forged request lacks the header
    headers = {"X-CSRFToken": csrf_token} if csrf_token else {}
    response = api_client.post("/api/v1/submissions", {"image": cat_file()}, headers=headers)
    assert_refused(response, 403, "csrf_failed")


# --- parameters, paths and methods ----------------------------------------------------


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        pytest.param("page=99999999999999999999", 400, "invalid_request", id="page-past-2-63"),
        pytest.param("page=92233720368547758&page_size=100", 400, "invalid_request",
                     id="page-times-size-past-2-63"),
        pytest.param("page=0", 400, "invalid_request", id="page-zero"),
        pytest.param("page=1e3", 400, "invalid_request", id="page-not-an-integer"),
        pytest.param("page_size=-5", 400, "invalid_request", id="page-size-negative"),
    ],
)  # fmt: skip
def test_a_bad_page_is_refused(api_client, token, nothing_kept, query, status, code):
    response = api_client.get(
        f"/api/v1/submissions?{query}", headers=auth_for("/submissions", token)
    )
    assert_refused(response, status, code)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("bbox=a,b,c,d", id="bbox-not-numbers"),
        pytest.param("bbox=0,0,200,10", id="bbox-out-of-range"),
        pytest.param("bbox=10,50,5,51", id="bbox-min-above-max"),
        pytest.param("bbox=nan,0,1,1", id="bbox-nan"),
        pytest.param("near=91,0", id="near-out-of-range"),
        pytest.param("near=51,0&radius_km=1e309", id="radius-infinite"),
        pytest.param("near=51,0&bbox=0,0,1,1", id="near-and-bbox"),
        pytest.param("", id="neither-near-nor-bbox"),
    ],
)
def test_a_bad_area_is_refused(api_client, token, nothing_kept, query):
    response = api_client.get(f"/api/v1/locations?{query}", headers=auth_for("/submissions", token))
    assert_refused(response, 400, "invalid_request")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        pytest.param("GET", "/api/v1/classify", "POST", id="get-classify"),
        pytest.param("PUT", "/api/v1/classify", "POST", id="put-classify"),
        pytest.param("DELETE", "/api/v1/submissions", "GET, POST", id="delete-all-submissions"),
        pytest.param("PATCH", "/api/v1/submissions/1", "DELETE, GET", id="patch-a-submission"),
        pytest.param("POST", "/api/v1/me", "GET", id="post-me"),
    ],
)
def test_a_wrong_method_is_a_405_with_allow(api_client, token, nothing_kept, method, path, allowed):
    response = api_client.generic(method, path, headers=auth_for("/submissions", token))
    assert_refused(response, 405, "method_not_allowed")
    assert sorted(response["Allow"].split(", ")) == allowed.split(", ")


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/nothing-here", id="unknown-path"),
        pytest.param("/api/v2/classify", id="unknown-version"),
        pytest.param("/api/v1/submissions/abc/../1", id="dot-dot-in-the-path"),
        pytest.param("/api/v1/submissions/99999999999999999999", id="id-past-2-63"),
    ],
)
def test_an_unknown_api_path_is_a_json_404(api_client, token, nothing_kept, path):
    response = api_client.get(path, headers=auth_for("/submissions", token))
    assert_refused(response, 404, "not_found")


def test_an_id_that_is_not_a_number_is_a_400(api_client, token, nothing_kept):
    response = api_client.get("/api/v1/submissions/abc", headers=auth_for("/submissions", token))
    assert_refused(response, 400, "invalid_request")


def test_html_pages_keep_html_errors(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- hostile but harmless: accepted, and what is kept is clean -------------------------


@pytest.mark.parametrize(
    ("filename", "kept_as"),
    [
        pytest.param("../../../etc/passwd.png", "passwd.png", id="path-traversal"),
        pytest.param("..\\..\\windows\\cat.png", "cat.png", id="windows-path-traversal"),
        pytest.param("cat\x00.png", "cat.png", id="nul-byte-inside"),
        # Only the part after the last slash is kept, and pages escape it when they show it.
        pytest.param("<script>alert(1)</script>.png", "script>.png", id="html-in-the-name"),
    ],
)
def test_a_hostile_name_on_a_real_photo_never_reaches_the_disk(
    api_client, token, settings, tmp_path, filename, kept_as
):
    settings.MEDIA_ROOT = tmp_path / "media"
    body = multipart(photo_part(filename))
    response = api_client.generic(
        "POST",
        "/api/v1/submissions",
        body,
        content_type=MULTIPART,
        headers=auth_for("/submissions", token),
    )
    assert response.status_code == 201, response.content
    submission = Submission.objects.get()
    assert submission.original_filename == kept_as
    stored = sorted(path.name for path in settings.MEDIA_ROOT.rglob("*") if path.is_file())
    assert len(stored) == 2
    assert all(kept_as not in name for name in stored)  # the keys are the app's own


def test_a_polyglot_photo_is_stored_without_its_payload(api_client, token, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    payload = b"<html><script>alert(document.cookie)</script></html>"
    upload = SimpleUploadedFile("cat.jpg", cat("JPEG") + payload)
    response = api_client.post(
        "/api/v1/submissions", {"image": upload}, headers=auth_for("/submissions", token)
    )
    assert response.status_code == 201, response.content
    for path in settings.MEDIA_ROOT.rglob("*"):
        if path.is_file():
            assert payload not in path.read_bytes()


def test_garbage_exif_does_not_stop_a_good_photo(api_client, token, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    garbage_exif = b"Exif\x00\x00" + os.urandom(2000)
    jpeg = cat("JPEG", exif=garbage_exif)
    upload = SimpleUploadedFile("cat.jpg", jpeg)
    response = api_client.post(
        "/api/v1/submissions", {"image": upload}, headers=auth_for("/submissions", token)
    )
    assert response.status_code == 201, response.content
    assert response.json()["location"] is None
