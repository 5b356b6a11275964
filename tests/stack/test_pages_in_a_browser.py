"""The upload page at / in a real browser: the JavaScript in classifier/upload.js.

tests/classifier/test_classify_page.py checks the HTML; these tests check that the script works:
uploading without leaving the page, drag and drop, the progress bar, and the errors.
At the end, every page is opened under the site's Content-Security-Policy, and the
browser's console must report no violation. They drive headless Chromium with Selenium
against pytest-django's live_server (the app served for real, in a thread of this
process). Chromium and its driver are Debian packages, installed by
`scripts/install-system-packages --test`.
"""

import base64
import io
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.core.signals import request_started
from PIL import Image
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from history.models import Submission
from tests.chromium import csp_violations, start_chromium
from tests.storages import s3_storages
from tooling.photos import enlarged_jpeg, skimage_photo

WAIT_SECONDS = 20  # the first upload also loads the model

# A real browser fires these events when a file is dragged onto the page and dropped.
# The file is built from base64 bytes, because a test cannot drag a file from the desktop.
DROP_FILE_SCRIPT = """
const [base64, fileName, contentType] = arguments;
const bytes = Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
const transfer = new DataTransfer();
transfer.items.add(new File([bytes], fileName, { type: contentType }));
const dropzone = document.getElementById("dropzone");

function fire(type) {
  const event = new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer });
  dropzone.dispatchEvent(event);
  return event;
}

fire("dragenter");
const dragover = fire("dragover");
const highlightedWhileDragging = dropzone.classList.contains("dragging");
fire("drop");
return {
  // A browser only lets a file be dropped where dragover's default was prevented.
  dropAllowed: dragover.defaultPrevented,
  highlightedWhileDragging: highlightedWhileDragging,
  highlightedAfterDrop: dropzone.classList.contains("dragging"),
};
"""

# Records every change of the progress bar and of the status line during an upload.
# The records live on window, which stays when the result page replaces the body.
RECORD_PROGRESS_SCRIPT = """
window.progressRecords = [];
window.statusTexts = [];
const progress = document.getElementById("upload-progress");
const status = document.getElementById("upload-status");
new MutationObserver(() => {
  window.progressRecords.push({ value: progress.value, visible: !progress.hidden });
}).observe(progress, { attributes: true, attributeFilter: ["value"] });
new MutationObserver(() => {
  window.statusTexts.push(status.textContent);
}).observe(status, { childList: true, characterData: true, subtree: true });
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium for the whole file: starting a browser takes a second."""
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture
def posts_received():
    """The paths of the POST requests the live server received during the test."""
    paths = []

    def note_post(sender, environ, **kwargs):
        if environ["REQUEST_METHOD"] == "POST":
            paths.append(environ["PATH_INFO"])

    request_started.connect(note_post)
    yield paths
    request_started.disconnect(note_post)


def open_upload_page(browser, live_server) -> None:
    """Loads / and marks the page, to tell later whether the browser navigated away."""
    browser.get(live_server.url + "/")
    browser.execute_script("window.stillTheUploadPage = true;")


def still_the_upload_page(browser) -> bool:
    """True if no navigation happened: a new page would have a fresh window object."""
    return browser.execute_script("return window.stillTheUploadPage === true;")


def choose_file(browser, path: Path) -> None:
    """What picking a file in the file dialog does."""
    browser.find_element(By.ID, "image-input").send_keys(str(path))


def drop_file(browser, data: bytes, file_name: str, content_type: str) -> dict:
    """Drags a file onto #dropzone and drops it; returns what the script observed."""
    encoded = base64.b64encode(data).decode("ascii")
    return browser.execute_script(DROP_FILE_SCRIPT, encoded, file_name, content_type)


def write_large_photo(directory: Path) -> Path:
    """A 12 MP JPEG of about 4 MB, like a phone's: an upload that takes a moment."""
    path = directory / "large.jpg"
    path.write_bytes(enlarged_jpeg(skimage_photo("coffee.png"), quality=100))
    return path


def click_classify(browser) -> None:
    browser.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()


def wait_for_text(browser, element_id: str, text: str) -> str:
    """Waits until the element's text contains `text`, and returns the whole text."""
    WebDriverWait(browser, WAIT_SECONDS).until(
        expected_conditions.text_to_be_present_in_element((By.ID, element_id), text)
    )
    return browser.find_element(By.ID, element_id).text


def form_is_ready(browser) -> bool:
    """The form can be used again: button enabled, no progress bar, no status."""
    button = browser.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]")
    progress = browser.find_element(By.ID, "upload-progress")
    status = browser.find_element(By.ID, "upload-status")
    return button.is_enabled() and not progress.is_displayed() and status.text == ""


def test_a_chosen_photo_is_classified_without_leaving_the_page(browser, live_server, tmp_path):
    photo = tmp_path / "coffee.png"
    photo.write_bytes(skimage_photo("coffee.png"))
    open_upload_page(browser, live_server)

    choose_file(browser, photo)
    assert "coffee.png" in browser.find_element(By.ID, "chosen-file").text
    click_classify(browser)

    assert wait_for_text(browser, "verdict", "Not a bird") == "Not a bird"
    assert browser.title == "Not a bird · bird.ai"
    # Without the script the form would post normally and load the result as a new page.
    assert still_the_upload_page(browser), "the browser navigated instead of using XHR"


def test_a_dropped_photo_is_classified(browser, live_server):
    open_upload_page(browser, live_server)

    dropped = drop_file(browser, skimage_photo("chelsea.png"), "cat.png", "image/png")

    assert dropped == {
        "dropAllowed": True,
        "highlightedWhileDragging": True,
        "highlightedAfterDrop": False,
    }
    assert wait_for_text(browser, "verdict", "Not a bird") == "Not a bird"
    assert still_the_upload_page(browser)


def test_the_progress_bar_follows_the_upload(browser, live_server, tmp_path):
    photo = write_large_photo(tmp_path)
    csp_violations(browser)  # forget the earlier tests' messages
    open_upload_page(browser, live_server)
    browser.execute_script(RECORD_PROGRESS_SCRIPT)

    choose_file(browser, photo)
    click_classify(browser)
    wait_for_text(browser, "verdict", "Not a bird")

    progress_records = browser.execute_script("return window.progressRecords;")
    status_texts = browser.execute_script("return window.statusTexts;")
    assert {"value": 100, "visible": True} in progress_records, progress_records
    assert status_texts[0] == "Uploading…", status_texts
    assert "Classifying…" in status_texts, status_texts  # shown once the photo is sent
    assert image_loaded(browser, "img.photo")  # the result's preview, a data: URI
    # All of it under the Content-Security-Policy (see the end of this file).
    assert csp_violations(browser) == []


def test_a_file_that_is_not_an_image_shows_the_servers_message(browser, live_server):
    open_upload_page(browser, live_server)

    drop_file(browser, b"Shopping list: seeds, suet.", "notes.jpg", "image/jpeg")

    # The message comes from the server's 415 page (no script could know it).
    wait_for_text(browser, "form-error", "not a JPEG, PNG, WebP or HEIC")
    assert form_is_ready(browser)
    assert still_the_upload_page(browser)
    # The form still works: a real photo dropped next is classified.
    drop_file(browser, skimage_photo("chelsea.png"), "cat.png", "image/png")
    assert wait_for_text(browser, "verdict", "Not a bird") == "Not a bird"


def test_a_file_over_the_limit_is_refused_before_sending(
    browser, live_server, settings, posts_received, tmp_path
):
    # The page hands the limit to the script. 1.5 MB, not a whole number of MB: the
    # script used to round it and say "2 MB".
    settings.MAX_UPLOAD_BYTES = 1536 * 1024
    photo = write_large_photo(tmp_path)
    assert photo.stat().st_size > settings.MAX_UPLOAD_BYTES
    open_upload_page(browser, live_server)

    choose_file(browser, photo)
    click_classify(browser)

    message = wait_for_text(browser, "form-error", "larger than")
    assert message == "The file is larger than the 1.5 MB limit."
    assert posts_received == [], "the photo was sent although it is over the limit"
    assert form_is_ready(browser)


def sign_in(browser, live_server, client, django_user_model) -> None:
    """Signs a new user in (the log-in form itself is tested in
    tests/accounts/test_sign_up_log_in_and_tokens.py)."""
    user = django_user_model.objects.create_user("birder", password="unused-in-this-test")
    sign_in_as(browser, live_server, client, user)


def sign_in_as(browser, live_server, client, user) -> None:
    """Gives the browser the session cookie of a test client logged in as `user`."""
    client.force_login(user)
    browser.get(live_server.url + "/healthz")  # a cookie needs a page of its site first
    browser.delete_all_cookies()
    browser.add_cookie({"name": "sessionid", "value": client.cookies["sessionid"].value})


def test_a_kept_photo_lands_on_its_own_page(
    browser, live_server, client, django_user_model, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    sign_in(browser, live_server, client, django_user_model)
    browser.get(live_server.url + "/history/upload/")
    browser.execute_script("window.stillTheUploadPage = true;")
    photo = tmp_path / "coffee.png"
    photo.write_bytes(skimage_photo("coffee.png"))

    choose_file(browser, photo)  # the form carries the CSRF token: the POST is accepted
    click_classify(browser)

    assert wait_for_text(browser, "verdict", "Not a bird") == "Not a bird"
    assert still_the_upload_page(browser)
    # The server redirected to the new submission; the address bar shows where it is.
    path = browser.execute_script("return window.location.pathname;")
    assert re.fullmatch(r"/history/\d+/", path)
    image = browser.find_element(By.CSS_SELECTOR, "img.photo")
    assert browser.execute_script("return arguments[0].naturalWidth;", image) > 0


# --- Every page under the Content-Security-Policy --------------------------------------
# The policy (birdai/settings.py) allows no inline script or style. Chromium refuses
# whatever breaks it and says so in the console, which csp_violations() reads; each page
# is also used for real (an upload, a map with tiles, the API docs), since a refused
# script would only show as a page that does nothing. The upload page with its progress
# bar is checked in test_the_progress_bar_follows_the_upload above.


@pytest.fixture
def tile_server():
    """Map tiles from another origin (another port), as from a real tile server; every
    tile is the same green square."""
    tile = io.BytesIO()
    Image.new("RGB", (256, 256), (170, 211, 160)).save(tile, "PNG")

    class TileHandler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(tile.getvalue())))
            self.end_headers()
            self.wfile.write(tile.getvalue())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), TileHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


def image_loaded(browser, css_selector: str) -> bool:
    images = browser.find_elements(By.CSS_SELECTOR, css_selector)
    return bool(images) and all(
        browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth;", i)
        for i in images
    )


def wait_until(browser, condition, what: str) -> None:
    """Waits for the condition; on a timeout, says what the policy blocked, if anything."""
    try:
        WebDriverWait(browser, WAIT_SECONDS).until(condition)
    except TimeoutException:
        pytest.fail(f"gave up waiting for {what}; CSP violations: {csp_violations(browser)}")


def test_the_signed_in_pages_work_under_the_policy(
    browser, live_server, client, django_user_model, tmp_path, settings, s3_server, tile_server
):
    # Photos on S3 and tiles from a tile server: images from two other origins.
    settings.STORAGES = s3_storages(s3_server, s3_server.create_bucket("csp-browser"))
    settings.MAP_TILE_URL = tile_server + "/{z}/{x}/{y}.png"
    sign_in(browser, live_server, client, django_user_model)
    csp_violations(browser)
    photo = tmp_path / "coffee.png"
    photo.write_bytes(skimage_photo("coffee.png"))

    browser.get(live_server.url + "/history/upload/")
    choose_file(browser, photo)
    click_classify(browser)
    wait_for_text(browser, "verdict", "Not a bird")
    wait_until(browser, lambda b: image_loaded(b, "img.photo"), "the photo from S3")
    assert (
        browser.find_element(By.CSS_SELECTOR, "img.photo")
        .get_attribute("src")
        .startswith(settings.STORAGES["default"]["OPTIONS"]["endpoint_url"])
    )
    assert csp_violations(browser) == [], "the submission's page"

    browser.get(live_server.url + "/history/")
    wait_until(browser, lambda b: image_loaded(b, ".history-grid img"), "the thumbnails")
    assert csp_violations(browser) == [], "the history"

    Submission.objects.update(location=Point(16.3725, 48.2082, srid=4326))
    browser.get(live_server.url + "/map/")
    wait_until(
        browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".leaflet-marker-icon"), "a marker"
    )
    wait_until(browser, lambda b: image_loaded(b, "img.leaflet-tile-loaded"), "the tiles")
    browser.find_element(By.CSS_SELECTOR, ".leaflet-marker-icon").click()
    wait_until(browser, lambda b: image_loaded(b, ".map-popup img"), "the popup's thumbnail")
    assert csp_violations(browser) == [], "the map"

    browser.get(live_server.url + "/account/")
    browser.find_element(By.ID, "id_name").send_keys("laptop")
    browser.find_element(By.CSS_SELECTOR, "form.stacked-form button").click()
    wait_for_text(browser, "new-token", "bird_")
    assert csp_violations(browser) == [], "the account page"


def test_the_api_docs_work_under_the_policy(browser, live_server):
    csp_violations(browser)
    browser.get(live_server.url + "/api/v1/docs")
    # Swagger UI draws one block per operation once it has read the schema.
    wait_until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".opblock"), "the operations")
    browser.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait_until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".opblock-body"), "a body")
    assert csp_violations(browser) == []


def test_the_admin_works_under_the_policy(browser, live_server, client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="unused-here")
    sign_in_as(browser, live_server, client, admin)
    csp_violations(browser)
    for path in ["/admin/", "/admin/history/submission/", f"/admin/auth/user/{admin.pk}/change/"]:
        browser.get(live_server.url + path)
        wait_until(browser, lambda b: b.find_elements(By.ID, "content"), path)
        assert csp_violations(browser) == [], path
