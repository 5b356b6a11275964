"""The upload page at / in a real browser: the JavaScript in classifier/upload.js.

tests/test_upload_page.py checks the HTML; these tests check that the script works:
uploading without leaving the page, drag and drop, the progress bar, and the errors.
They drive headless Chromium with Selenium against pytest-django's live_server (the
app served for real, in a thread of this process). Chromium and its driver are Debian
packages, installed by `scripts/install-system-packages --test`.
"""

import base64
import re
from pathlib import Path

import pytest
from django.core.signals import request_started
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from tests.chromium import start_chromium
from tests.photos import enlarged_jpeg, skimage_photo

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
    """Signs a new user in by giving the browser the session cookie of a logged-in
    test client (the log-in form itself is tested in tests/test_accounts.py)."""
    user = django_user_model.objects.create_user("birder", password="unused-in-this-test")
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
