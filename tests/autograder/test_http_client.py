"""The grader's HTTP client (autograder/http_client.py), the state its checks share
(autograder/http_state.py) and what it reads in photos (autograder/photos.py), against
a small server on loopback: transient errors retried, an unreachable deployment the
student's, a bug in the grader its own."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO

import pytest
from PIL import Image

from autograder.checks import DeploymentWrong
from autograder.http_client import Client
from autograder.http_state import GradingState
from autograder.photos import GPS_PHOTO, gps_photo, inspect, looks_like, read_testdata

pytestmark = pytest.mark.database_independent


class Flaky(BaseHTTPRequestHandler):
    """Answers 503 to the first `failures` requests, then 200."""

    failures = 0
    seen = 0

    def do_GET(self) -> None:
        type(self).seen += 1
        status = 503 if type(self).seen <= type(self).failures else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def flaky():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Flaky.seen = 0
    yield f"http://127.0.0.1:{server.server_address[1]}", Flaky
    server.shutdown()
    server.server_close()


def test_a_503_is_retried_with_back_off_before_it_counts(flaky):
    url, handler = flaky
    handler.failures = 2
    answer = Client(url, first_pause=0.01).get("/healthz")
    assert (answer.status, answer.attempts, handler.seen) == (200, 3, 3)


def test_a_deployment_that_keeps_answering_503_gets_its_answer_judged(flaky):
    url, handler = flaky
    handler.failures = 100
    answer = Client(url, retries=2, first_pause=0.01).get("/readyz")
    assert (answer.status, answer.attempts) == (503, 3)


def test_a_deployment_that_cannot_be_reached_is_the_students(flaky):
    url, _ = flaky
    closed = url.rsplit(":", 1)[0] + ":9"  # discard: nothing listens on loopback's port 9
    with pytest.raises(DeploymentWrong, match=r"could not reach http://127\.0\.0\.1:9/healthz"):
        Client(closed, retries=1, first_pause=0.01).get("/healthz")


def test_a_bug_in_the_grader_is_not_blamed_on_the_student(flaky):
    url, handler = flaky
    with pytest.raises(TypeError):  # a check that calls the client wrongly: not retried
        Client(url, first_pause=0.01).get("/healthz", not_an_option=True)
    assert handler.seen == 0


def test_a_failed_step_is_reported_in_full_once_then_named_by_the_checks_that_need_it():
    state = GradingState(Client("http://127.0.0.1:9"))
    calls = []

    def broken_sign_up():
        calls.append(1)
        raise DeploymentWrong("POST /api/v1/signup answered 404")

    with pytest.raises(DeploymentWrong, match=r"^POST /api/v1/signup answered 404$"):
        state.step("two users", broken_sign_up)
    with pytest.raises(DeploymentWrong, match="needs two users, which failed: POST /api/v1/signup"):
        state.step("two users", broken_sign_up)
    assert calls == [1]


def test_the_uploaded_photo_keeps_its_gps_and_says_it_is_stored_sideways():
    photo = gps_photo()
    opened = Image.open(BytesIO(photo))
    assert opened.getexif()[0x0112] == 6
    assert len(photo) == len(read_testdata(GPS_PHOTO))  # two bytes changed, nothing else
    assert "EXIF (with GPS)" in inspect(photo).metadata


def test_a_clean_upright_copy_passes_and_a_sideways_one_does_not():
    photo = gps_photo()
    upright = Image.open(BytesIO(photo))
    upright = upright.transpose(Image.Transpose.ROTATE_270)  # what Orientation 6 asks
    clean, sideways = BytesIO(), BytesIO()
    upright.save(clean, format="JPEG")
    upright.transpose(Image.Transpose.ROTATE_180).save(sideways, format="JPEG")

    served = inspect(clean.getvalue())
    assert (served.size, served.metadata) == ((480, 640), [])
    to_upright, to_wrong_turn = looks_like(clean.getvalue(), photo)
    assert to_upright < 5 < to_wrong_turn
    to_upright, to_wrong_turn = looks_like(sideways.getvalue(), photo)
    assert to_upright > to_wrong_turn
