"""The photo map (geo/views.py, geo/templates/geo/map.html, geo/static/geo/map.js).

First the HTML through Django's test client: who sees which points, and that the page
loads no code from other sites. Then the page in headless Chromium (as in
tests/test_browser.py): Leaflet draws the markers, clusters them, opens popups, and does
all that with the tiles failing, which is also what happens when the tests run offline.
"""

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from geo import views
from history.models import Submission
from tests.chromium import start_chromium

WAIT_SECONDS = 20
START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
# Three photos within a few hundred metres of each other in Vienna, one in Lisbon.
NEAR = [(16.3725, 48.2082), (16.3731, 48.2086), (16.3719, 48.2079)]
FAR = (-9.1393, 38.7223)
POINTS_SCRIPT = re.compile(r'<script id="map-points" type="application/json">(.*?)</script>', re.S)


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def make_user(username: str, staff: bool = False):
    return get_user_model().objects.create_user(
        username, password="unused-in-these-tests", is_staff=staff
    )


def thumbnail_key(owner) -> str:
    """A real little WebP in storage, so that the popup's picture loads."""
    data = io.BytesIO()
    Image.new("RGB", (32, 24), (47, 125, 79)).save(data, "WEBP")
    return default_storage.save(f"submissions/{owner.pk}/thumb.webp", ContentFile(data.getvalue()))


def photo(owner, lon_lat=None, species="robin", is_bird=True, minutes=0, taken_at=None):
    """A submission as submit_photo would store it, at (longitude, latitude) or nowhere."""
    number = Submission.objects.count() + 1
    return Submission.objects.create(
        owner=owner, image=f"submissions/{owner.pk}/{number}.jpg", thumbnail=thumbnail_key(owner),
        content_type="image/jpeg", byte_size=5, width=1, height=1,
        sha256=f"{number:064x}", is_bird=is_bird, bird_probability=0.9 if is_bird else 0.1,
        top_species=species, species=[], model_name="m", model_backend="onnx",
        location=Point(*lon_lat, srid=4326) if lon_lat else None,
        taken_at=taken_at, created_at=START + timedelta(minutes=minutes),
    )  # fmt: skip


def embedded_points(response) -> list[dict]:
    """The points the page hands to map.js, read back from its json_script tag."""
    assert response.status_code == 200
    found = POINTS_SCRIPT.search(response.content.decode())
    assert found, "no <script id=map-points> in the page"
    return json.loads(found.group(1))


# --- The HTML (Django's test client) -------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/map/", "/map/all/"])
def test_the_maps_require_signing_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")


@pytest.mark.django_db
def test_the_map_embeds_only_the_users_own_located_photos(client, media_root):
    alice, bob = make_user("alice"), make_user("bob")
    robin = photo(alice, NEAR[0], "robin", minutes=1)
    not_a_bird = photo(
        alice, FAR, "tabby", is_bird=False, minutes=2, taken_at=START.replace(year=2023)
    )
    photo(alice, None, "wren", minutes=3)  # no location: not on the map
    photo(bob, NEAR[1], "magpie", minutes=4)  # bob's: never on alice's map
    client.force_login(alice)

    points = embedded_points(client.get("/map/"))

    assert points == [
        {
            "id": not_a_bird.pk, "lat": 38.7223, "lon": -9.1393, "species": "Not a bird",
            "date": "2023-05-01",  # when it was taken, if the photo said so
            "thumbnail": not_a_bird.thumbnail.url, "url": f"/history/{not_a_bird.pk}/",
        },
        {
            "id": robin.pk, "lat": 48.2082, "lon": 16.3725, "species": "robin",
            "date": "2024-05-01",  # otherwise when it was submitted
            "thumbnail": robin.thumbnail.url, "url": f"/history/{robin.pk}/",
        },
    ]  # fmt: skip


@pytest.mark.django_db
def test_a_user_without_located_photos_gets_an_empty_map(client, media_root):
    alice = make_user("alice")
    photo(alice, None)
    client.force_login(alice)
    response = client.get("/map/")
    assert embedded_points(response) == []
    assert "No photos with a location yet" in response.content.decode()


@pytest.mark.django_db
def test_the_staff_map_shows_everyones_photos(client, media_root):
    alice, bob, admin = make_user("alice"), make_user("bob"), make_user("admin", staff=True)
    alices = photo(alice, NEAR[0], minutes=1)
    bobs = photo(bob, FAR, minutes=2)
    admins = photo(admin, NEAR[1], minutes=3)
    client.force_login(admin)

    points = embedded_points(client.get("/map/all/"))

    assert [(p["id"], p["owner"]) for p in points] == [
        (admins.pk, "admin"), (bobs.pk, "bob"), (alices.pk, "alice")
    ]  # fmt: skip
    # Only the staff member's own photo links to its page (others' pages are 404s).
    assert [p["url"] for p in points] == [f"/history/{admins.pk}/", None, None]
    # The staff member's own map is still only theirs.
    assert [p["id"] for p in embedded_points(client.get("/map/"))] == [admins.pk]


@pytest.mark.django_db
def test_the_staff_map_is_not_there_for_other_users(client, media_root):
    alice = make_user("alice")
    photo(make_user("bob"), FAR)
    client.force_login(alice)
    response = client.get("/map/all/")
    assert response.status_code == 404
    assert b"bob" not in response.content


@pytest.mark.django_db
def test_the_newest_points_are_kept_when_there_are_too_many(client, media_root, monkeypatch):
    monkeypatch.setattr(views, "MAX_POINTS", 2)
    alice = make_user("alice")
    located = [photo(alice, NEAR[i], minutes=i) for i in range(3)]
    client.force_login(alice)
    response = client.get("/map/")
    assert [p["id"] for p in embedded_points(response)] == [located[2].pk, located[1].pk]
    assert "the newest 2 are shown" in response.content.decode()


@pytest.mark.django_db
def test_user_text_cannot_break_out_of_the_embedded_data(client, media_root):
    alice = make_user("alice")
    photo(alice, FAR, species="</script><script>alert(1)</script>")
    client.force_login(alice)
    response = client.get("/map/")
    html = response.content.decode()
    assert "<script>alert(1)" not in html  # json_script escapes <, > and &
    assert embedded_points(response)[0]["species"] == "</script><script>alert(1)</script>"


@pytest.mark.django_db
def test_the_page_loads_scripts_and_styles_only_from_this_site(client, media_root, settings):
    settings.MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    alice = make_user("alice")
    photo(alice, FAR)
    client.force_login(alice)
    html = client.get("/map/").content.decode()

    scripts = re.findall(r"<script[^>]*\ssrc=\"([^\"]+)\"", html)
    styles = re.findall(r"<link[^>]*\shref=\"([^\"]+)\"", html)
    assert len(scripts) == 3  # leaflet, markercluster, map.js
    assert len(styles) >= 4  # the site's, leaflet's, markercluster's two, the map's
    for url in scripts + styles:
        assert url.startswith("/static/"), url
    assert "/static/geo/vendor/leaflet/leaflet.js" in scripts
    assert "/static/geo/vendor/leaflet.markercluster/leaflet.markercluster.js" in scripts
    # The tile server appears once, as data for the script (the browser fetches images).
    assert html.count("tiles.example.org") == 1
    assert 'data-tile-url="https://tiles.example.org/{z}/{x}/{y}.png"' in html


@pytest.mark.django_db
def test_every_page_links_to_the_map(client):
    html = client.get("/").content.decode()
    assert '<a href="/map/">Map</a>' in html


@pytest.mark.django_db
def test_collectstatic_serves_the_vendored_libraries(client, media_root, settings, tmp_path):
    """collectstatic's manifest storage rewrites the url()s in leaflet.css and the
    scripts' source map links: it fails if a file they name is missing."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    vendor = settings.STATIC_ROOT / "geo" / "vendor"
    assert list(vendor.glob("leaflet/leaflet.*.js"))
    assert list(vendor.glob("leaflet/images/marker-icon.*.png"))
    assert list(vendor.glob("leaflet.markercluster/leaflet.markercluster.*.js"))

    client.force_login(make_user("alice"))
    html = client.get("/map/").content.decode()
    assert re.search(
        r'data-icon-url="/static/geo/vendor/leaflet/images/marker-icon\.\w+\.png"', html
    )
    assert re.search(r'src="/static/geo/map\.\w+\.js"', html)


# --- In a real browser (headless Chromium) --------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium for this file (tests/chromium.py)."""
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"), "--window-size=1200,900")
    yield driver
    driver.quit()


@pytest.fixture
def failing_tiles(settings, live_server):
    """Tiles from an address that answers 404 at once: what offline looks like to
    Leaflet, without waiting for DNS to time out."""
    settings.MAP_TILE_URL = live_server.url + "/no-tiles-here/{z}/{x}/{y}.png"


def sign_in(browser, live_server, client, user) -> None:
    """Gives the browser the session cookie of a test client logged in as `user`."""
    client.force_login(user)
    browser.get(live_server.url + "/healthz")  # a cookie needs a page of its site first
    browser.delete_all_cookies()
    browser.add_cookie({"name": "sessionid", "value": client.cookies["sessionid"].value})


def open_popup(browser, marker, text: str):
    """Clicks the marker and returns its popup once it has faded in and shows `text`."""
    marker.click()
    return WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: next(
            (
                popup
                for popup in b.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content .map-popup")
                # .text is "" while the popup fades in, and capitalised as the CSS says.
                if text.lower() in popup.text.lower()
            ),
            None,
        )
    )


def open_map(browser, live_server, path: str = "/map/") -> None:
    browser.get(live_server.url + path)
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: (
            b.find_element(By.ID, "map").get_attribute("data-ready") == "true"
            and b.find_elements(By.CSS_SELECTOR, ".leaflet-marker-icon")
        )
    )


def test_the_map_draws_clustered_markers_and_popups_without_tiles(
    browser, live_server, client, media_root, failing_tiles
):
    birder = make_user("birder")
    for i, place in enumerate(NEAR):
        photo(birder, place, species="house sparrow", minutes=i)
    # Species names come from the model, but the popup must show any text as text.
    far = photo(birder, FAR, species="white stork <img src=x onerror=window.pwned=1>", minutes=9)
    photo(make_user("someone-else"), (2.35, 48.85), species="pigeon")  # not on birder's map
    sign_in(browser, live_server, client, birder)

    open_map(browser, live_server)

    # The three nearby photos are one cluster of 3; the far one is a marker of its own.
    clusters = browser.find_elements(By.CSS_SELECTOR, ".marker-cluster")
    assert [cluster.text for cluster in clusters] == ["3"]
    markers = browser.find_elements(By.CSS_SELECTOR, ".leaflet-marker-icon:not(.marker-cluster)")
    assert len(markers) == 1
    # The tiles failed (as offline), and the page says so; the markers are there anyway.
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: b.find_element(By.ID, "map-offline").is_displayed()
    )
    assert browser.find_element(By.ID, "map").get_attribute("data-ready") == "true"

    popup = open_popup(browser, markers[0], "white stork")
    text = popup.get_attribute("textContent")
    assert "white stork <img src=x onerror=window.pwned=1>" in text
    assert "2024-05-01" in text
    # One picture, the thumbnail, which loads and links to the photo's page.
    images = popup.find_elements(By.TAG_NAME, "img")
    assert len(images) == 1
    link = popup.find_element(By.TAG_NAME, "a")
    assert link.get_attribute("href") == f"{live_server.url}/history/{far.pk}/"
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: b.execute_script("return arguments[0].naturalWidth;", images[0]) > 0
    )
    assert browser.execute_script("return window.pwned;") is None

    # Clicking the cluster zooms in until its three markers stand apart.
    # Opening the popup panned the map, and the clusters are redrawn as it moves: the
    # cluster is found again until a click lands on it.
    WebDriverWait(browser, WAIT_SECONDS, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda b: b.find_element(By.CSS_SELECTOR, ".marker-cluster").click() or True
    )
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: (
            len(b.find_elements(By.CSS_SELECTOR, ".leaflet-marker-icon:not(.marker-cluster)")) >= 3
        )
    )


def test_the_staff_map_names_each_photos_owner(
    browser, live_server, client, media_root, failing_tiles
):
    photo(make_user("alice"), FAR, species="white stork")
    sign_in(browser, live_server, client, make_user("warden", staff=True))

    open_map(browser, live_server, "/map/all/")

    marker = browser.find_element(By.CSS_SELECTOR, ".leaflet-marker-icon")
    popup = open_popup(browser, marker, "white stork")
    assert "by alice" in popup.get_attribute("textContent")
    assert popup.find_elements(By.TAG_NAME, "a") == []  # alice's page is hers alone
