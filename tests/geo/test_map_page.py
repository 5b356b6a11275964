"""The photo map (geo/views.py, geo/templates/geo/map.html, geo/static/geo/map.js).

First the HTML through Django's test client: the page holds no photos, only where to ask
for them (the locations API, by the browser's session), and loads no code from other
sites. Then the page in headless Chromium (as the browser tests of every page do):
it fetches the photos from /api/v1/locations, Leaflet draws the markers, clusters them,
opens popups, and does all that with the tiles failing, which is also what happens when
the tests run offline. Which photos the API answers is tested in
tests/history/test_locations_api.py.
"""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from history import locations
from history.models import Submission
from tests.chromium import start_chromium

WAIT_SECONDS = 20
START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
# Three photos within a few hundred metres of each other in Vienna, one in Lisbon.
NEAR = [(16.3725, 48.2082), (16.3731, 48.2086), (16.3719, 48.2079)]
FAR = (-9.1393, 38.7223)
WORLD = "-180,-90,180,90"


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


# --- The HTML (Django's test client) -------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/map/", "/map/all/"])
def test_the_maps_require_signing_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")


@pytest.mark.django_db
def test_the_page_holds_no_photos_only_where_to_ask_for_them(client, media_root):
    alice = make_user("alice")
    photo(alice, NEAR[0], "song thrush")
    client.force_login(alice)

    html = client.get("/map/").content.decode()

    assert 'data-locations-url="/api/v1/locations"' in html
    assert 'data-everyone="false"' in html
    assert 'data-photo-url="/history/{id}/"' in html
    assert "song thrush" not in html  # the script asks the API for the photos
    assert "map-points" not in html


@pytest.mark.django_db
def test_the_staff_map_asks_for_everyones_photos(client):
    client.force_login(make_user("admin", staff=True))
    response = client.get("/map/all/")
    assert response.status_code == 200
    assert 'data-everyone="true"' in response.content.decode()


@pytest.mark.django_db
def test_the_pages_fetch_is_signed_in_by_its_session(client, media_root):
    """What map.js asks, with the page's session cookie and no token: a GET needs no
    CSRF token. The user's own photos, and everyone's for staff (all=true)."""
    alice, admin = make_user("alice"), make_user("admin", staff=True)
    alices = photo(alice, NEAR[0], minutes=1)
    admins = photo(admin, FAR, minutes=2)

    client.force_login(alice)
    mine = client.get("/api/v1/locations", {"bbox": WORLD})
    assert mine.status_code == 200, mine.content
    assert [f["properties"]["id"] for f in mine.json()["features"]] == [alices.pk]
    assert client.get("/api/v1/locations", {"bbox": WORLD, "all": "true"}).status_code == 403

    client.force_login(admin)
    everyones = client.get("/api/v1/locations", {"bbox": WORLD, "all": "true"})
    assert [f["properties"]["id"] for f in everyones.json()["features"]] == [admins.pk, alices.pk]


@pytest.mark.django_db
def test_the_staff_map_is_not_there_for_other_users(client, media_root):
    alice = make_user("alice")
    photo(make_user("bob"), FAR)
    client.force_login(alice)
    response = client.get("/map/all/")
    assert response.status_code == 404
    assert b"bob" not in response.content


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
def test_collectstatic_serves_the_vendored_libraries(client, media_root, collected_static):
    """collectstatic's manifest storage rewrites the url()s in leaflet.css and the
    scripts' source map links: it fails if a file they name is missing."""
    vendor = collected_static / "geo" / "vendor"
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


def test_the_staff_map_shows_whose_each_photo_is_and_links_only_their_own(
    browser, live_server, client, media_root, failing_tiles
):
    photo(make_user("alice"), FAR, "tabby", is_bird=False, taken_at=START.replace(year=2023))
    sign_in(browser, live_server, client, make_user("warden", staff=True))

    open_map(browser, live_server, "/map/all/")

    marker = browser.find_element(By.CSS_SELECTOR, ".leaflet-marker-icon")
    popup = open_popup(browser, marker, "not a bird")
    text = popup.get_attribute("textContent")
    assert "2023-05-01" in text  # when it was taken
    assert "by alice" in text
    # Alice's page is hers alone (a 404 for anyone else): no link to it.
    assert popup.find_elements(By.TAG_NAME, "a") == []
    assert browser.find_element(By.ID, "map-summary").text == "1 photo with a location."


def test_too_many_photos_come_as_the_servers_clusters_until_zoomed_in(
    browser, live_server, client, media_root, failing_tiles, monkeypatch
):
    # The live server runs in this process: 3 photos fit in an answer, 4 do not.
    monkeypatch.setattr(locations, "MAX_FEATURES", 3)
    birder = make_user("birder")
    for i, place in enumerate([*NEAR, FAR]):
        photo(birder, place, species="house sparrow", minutes=i)
    sign_in(browser, live_server, client, birder)

    open_map(browser, live_server)

    assert browser.find_element(By.ID, "map-summary").text == "4 photos with a location."
    servers = browser.find_elements(By.CSS_SELECTOR, ".map-cluster")
    assert sorted(cluster.text for cluster in servers) == ["1", "3"]
    # Clicking Vienna's zooms in; the box then shown holds 3 photos, which come one by
    # one and are clustered in the browser instead.
    next(cluster for cluster in servers if cluster.text == "3").click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: (
            not b.find_elements(By.CSS_SELECTOR, ".map-cluster")
            and [c.text for c in b.find_elements(By.CSS_SELECTOR, ".marker-cluster")] == ["3"]
        )
    )


def test_a_user_without_located_photos_is_told_so(
    browser, live_server, client, media_root, failing_tiles
):
    alice = make_user("alice")
    photo(alice, None)
    sign_in(browser, live_server, client, alice)

    browser.get(live_server.url + "/map/")

    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda b: b.find_element(By.ID, "map").get_attribute("data-ready") == "true"
    )
    assert "No photos with a location yet" in browser.find_element(By.ID, "map-empty").text
    assert not browser.find_element(By.ID, "map-summary").is_displayed()
    assert browser.find_elements(By.CSS_SELECTOR, ".leaflet-marker-icon") == []
