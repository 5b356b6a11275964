"""X-Served-By: which app server answered (birdai/served_by.py), on every answer when
APP_SERVER_NAME names it, and on none by default."""

import pytest
from django.test import Client

from tests.birdai.test_settings_from_environment import load_settings

pytestmark = pytest.mark.django_db

# A page, the API, an error, a health check (answered before the Host is checked),
# a static file (answered by WhiteNoise).
PATHS = ["/", "/api/v1/openapi.json", "/no-such-page/", "/healthz", "/static/birdai/site.css"]


def test_no_header_by_default(client):
    for path in PATHS:
        assert "X-Served-By" not in client.get(path), path


def test_every_answer_names_the_app_server(settings):
    settings.APP_SERVER_NAME = "app-2"
    client = Client()  # a new handler, with the setting in place
    for path in PATHS:
        assert client.get(path)["X-Served-By"] == "app-2", path
    assert client.post("/api/v1/classify")["X-Served-By"] == "app-2"


def test_the_name_comes_from_the_environment():
    result = load_settings({"APP_SERVER_NAME": "app-1.internal"}, "s.APP_SERVER_NAME")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "app-1.internal"


def test_a_name_that_is_no_header_value_stops_the_start():
    result = load_settings({"APP_SERVER_NAME": "app 1\r\nSet-Cookie: x=y"})
    assert result.returncode != 0
    assert "APP_SERVER_NAME" in result.stderr
