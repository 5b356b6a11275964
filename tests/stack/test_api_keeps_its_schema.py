"""Schemathesis against the live server: the API keeps to its own OpenAPI schema.

Schemathesis reads /api/v1/openapi.json from a real gunicorn and sends generated
requests, valid and invalid, through every operation, with all its checks: no 5xx,
only documented statuses, bodies and content types as documented, invalid data
rejected, valid data accepted, auth not ignored, wrong methods answered 405.

Random bytes are never a photo, and random text never a bounding box, so generated
"valid" uploads and areas would only ever reach the error paths: the strategies below
make real JPEG/PNG/WebP files and real bbox/near values.

Bounded (MAX_EXAMPLES per operation, no deadline) and deterministic (derandomize, no
example database): each run sends the same requests.
"""

import io
import json
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis.checks import positive_data_acceptance

from birdai.api import api
from tooling.servers import Gunicorn, prepare_app
from tooling.servers.net import http_get, http_request, multipart_file

# Its gunicorn keeps its own SpatiaLite database: the PostGIS run leaves it out.
pytestmark = [
    pytest.mark.database_independent,
    pytest.mark.in_postgis_run,  # 80 s: it evens the two database runs (scripts/test)
]

MAX_EXAMPLES = 100
USERNAME = "fuzzer"


# --- what valid data looks like -------------------------------------------------------


@st.composite
def photos(draw, format: str) -> bytes:
    """A small real photo file: one colour, of a drawn size."""
    size = draw(st.tuples(st.integers(8, 96), st.integers(8, 96)))
    colour = draw(st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)))
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=format)
    return buffer.getvalue()


latitudes = st.floats(-90, 90, allow_nan=False)
longitudes = st.floats(-180, 180, allow_nan=False)


@st.composite
def bounding_boxes(draw) -> str:
    lon_a, lon_b = draw(st.lists(longitudes, min_size=2, max_size=2, unique=True))
    lat_a, lat_b = draw(st.lists(latitudes, min_size=2, max_size=2, unique=True))
    return f"{min(lon_a, lon_b)},{min(lat_a, lat_b)},{max(lon_a, lon_b)},{max(lat_a, lat_b)}"


schemathesis.openapi.media_type("image/jpeg", photos("JPEG"))
schemathesis.openapi.media_type("image/png", photos("PNG"))
schemathesis.openapi.media_type("image/webp", photos("WEBP"))
schemathesis.openapi.format("bbox", bounding_boxes())
schemathesis.openapi.format("lat-lon", st.builds("{},{}".format, latitudes, longitudes))


def asks_for_one_area(case) -> bool:
    """/locations takes exactly one of bbox and near (radius_km only with near), which its
    description says and a JSON schema cannot: any other query is a 400, though it may
    look valid to Schemathesis."""
    if case.operation.path != "/api/v1/locations":
        return True
    query = case.query or {}
    return ("bbox" in query) != ("near" in query) and ("radius_km" not in query or "near" in query)


def call_and_validate(case, base_url: str, headers: dict[str, str] | None = None) -> None:
    """Every Schemathesis check on the answer; for the one rule the schema cannot state,
    the answer must be the documented 400 instead of being accepted."""
    if asks_for_one_area(case):
        case.call_and_validate(base_url=base_url, headers=headers)
        return
    response = case.call_and_validate(
        base_url=base_url, headers=headers, excluded_checks=[positive_data_acceptance]
    )
    # 400 invalid_request; or refused before the query is read: 401 without credentials,
    # 403 for all=true from someone not staff (and 405 when the case tries another method).
    assert response.status_code in {400, 401, 403, 405}, response.text


# --- the live server --------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzzed_server(onnx_model, tmp_path_factory):
    """gunicorn with production settings (DEBUG off), its own SQLite database and one
    user with an API token."""
    var_dir = tmp_path_factory.mktemp("fuzzed")
    env = {
        "BIRDAI_VAR_DIR": str(var_dir),
        "DATABASE_URL": f"spatialite:///{var_dir / 'db.sqlite3'}",
        "CLASSIFIER_ONNX_PATH": str(onnx_model),
        "DEBUG": "false",
        # Thousands of requests from one account in a minute: the fuzzer checks what the
        # API answers, not its rate limits (tests/throttling/test_limits.py does), so they must
        # not turn the later tests' answers into 429s.
        "CLASSIFY_RATE_PER_ACCOUNT": "1000000/m",
        "CLASSIFY_RATE_PER_ADDRESS": "1000000/m",
        "UPLOAD_RATE_PER_ACCOUNT": "1000000/m",
    }
    token = prepare_app(env, USERNAME)
    with Gunicorn(env, workers=2) as server:
        server.token = token
        yield server


# The schema as this code generates it, loaded when pytest collects the tests (a schema
# loaded lazily from the server's URL needs a pytest hook that pytest 9 no longer has);
# the first test checks that the live server serves exactly this schema.
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())

bounded = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,  # a busy 2-core machine; speed is for the benchmarks
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_the_live_server_serves_the_schema_under_test(fuzzed_server):
    response = http_get(fuzzed_server.url + "/api/v1/openapi.json")
    assert json.loads(response.body) == schema.raw_schema


@schema.parametrize()
@bounded
def test_the_api_keeps_to_its_schema_with_a_token(case, fuzzed_server):
    call_and_validate(case, fuzzed_server.url, {"Authorization": f"Bearer {fuzzed_server.token}"})


@schema.parametrize()
@bounded
def test_the_api_keeps_to_its_schema_without_credentials(case, fuzzed_server):
    call_and_validate(case, fuzzed_server.url)


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        pytest.param("cat.png", "multipart/form-data", id="no-boundary"),
        pytest.param("a" * 2000 + ".png", None, id="filename-of-2000-characters"),
    ],
)
def test_an_unreadable_body_is_a_json_400_and_no_traceback(fuzzed_server, filename, content_type):
    """As issue #12 found them on gunicorn: each was Django's HTML 400 and a traceback."""
    body, headers = multipart_file("image", filename, b"\x89PNG\r\n\x1a\n")
    if content_type:
        headers["Content-Type"] = content_type
    for url in (fuzzed_server.url + "/api/v1/classify", fuzzed_server.url + "/api/v1/submissions"):
        headers["Authorization"] = f"Bearer {fuzzed_server.token}"
        response = http_request("POST", url, body=body, headers=headers)
        assert response.status == 400, response.body
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert json.loads(response.body)["error"] == "invalid_request"
    assert "Traceback" not in fuzzed_server.log_path.read_text()


def test_the_generated_requests_reached_every_success_path(fuzzed_server):
    """Runs after the Schemathesis tests above (pytest keeps a module's order): real photos
    and real areas reached the code behind each success, not only the error paths."""
    log = fuzzed_server.log_path.read_text()
    answered = re.findall(r' HTTP/1\.1" \d{3} ', log)
    assert len(answered) > 1000  # about 2,500 with MAX_EXAMPLES = 100
    for request_line, status in [
        ("POST /api/v1/classify", 200),
        ("POST /api/v1/submissions", 201),
        ("GET /api/v1/submissions?", 200),
        ("GET /api/v1/locations?bbox=", 200),
        ("GET /api/v1/locations?near=", 200),
        ("GET /api/v1/me", 200),
    ]:
        assert re.search(rf'"{re.escape(request_line)}[^"]*" {status} ', log), request_line
