"""Static files as production serves them: collected, hashed and compressed by
collectstatic, then served by WhiteNoise with DEBUG off."""

import pytest

# collected_static (tests/conftest.py): collectstatic as production runs it.


@pytest.mark.parametrize("path", ["/", "/account/login/"])
def test_every_page_finds_its_collected_stylesheet_and_script(client, collected_static, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    # Hashed names: the files may be cached for a year.
    assert "/static/birdai/site." in html
    assert "/static/birdai/site.css" not in html


def test_collectstatic_gathers_the_site_stylesheet_and_the_upload_script(collected_static):
    assert list(collected_static.glob("birdai/site.*.css"))
    assert list(collected_static.glob("classifier/upload.*.js"))
    assert list(collected_static.glob("ninja/swagger-ui*.css"))  # the API docs page's
