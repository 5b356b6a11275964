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


def test_collectstatic_compresses_only_what_pages_ask_for(collected_static):
    """Brotli at its best quality costs about 3 s of CPU per MB, and collectstatic runs
    in every image build, deploy and test stack: it compresses the hashed copies pages
    link to, and not the source maps only a browser's developer tools fetch (5.6 of the
    10 MB collected). It took 40 s before, 6 s now (birdai/settings.py)."""
    compressed = {
        path.name for path in collected_static.rglob("*") if path.suffix in {".br", ".gz"}
    }
    assert any(name.startswith("swagger-ui-bundle.") for name in compressed)
    assert not [name for name in compressed if ".map." in name]
    # Only hashed names are left, so nothing compresses the same file twice.
    assert not (collected_static / "birdai" / "site.css").exists()
    assert not (collected_static / "ninja" / "swagger-ui-bundle.js").exists()
