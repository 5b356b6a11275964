"""/healthz says the process lives; /readyz checks the database, the model and storage.

A failing /readyz tells the public only which part failed: its error names database
hosts, S3 endpoints, buckets and file paths, which go to the log and to staff. Both
answer a load balancer's probe whatever its Host header.
"""

import os

import pytest
from django.db import connection

from tests.storages import s3_storages  # ASSIGNMENT 2
from tooling.servers import Gunicorn
from tooling.servers.net import http_get

CHECKS = ("database", "model", "storage")


def public_answer(failing: str) -> dict:
    """The whole body anyone gets when one part fails: nothing but its name."""
    return {
        "status": "unavailable",
        "failing": [failing],
        "checks": {name: "error" if name == failing else "ok" for name in CHECKS},
    }


def logged_detail(caplog, part: str) -> str:
    messages = [r.getMessage() for r in caplog.records if r.name == "birdai.health"]
    found = [message for message in messages if f"the {part} check failed" in message]
    assert found, messages
    return found[-1]


@pytest.fixture
def staff_client(client, django_user_model):
    staff = django_user_model.objects.create_user("warden", password="unused", is_staff=True)
    client.force_login(staff)
    return client


def test_it_answers_healthz_without_touching_dependencies(client, missing_model):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_it_is_ready_when_everything_works(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "model": "ok", "storage": "ok"},
    }


@pytest.mark.django_db
def test_it_names_the_model_when_it_cannot_load(client, missing_model, settings, caplog):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == public_answer("model")
    # The operator learns the fix (and the path) from the log.
    detail = logged_detail(caplog, "model")
    assert "export_onnx" in detail
    assert str(settings.CLASSIFIER_ONNX_PATH) in detail


@pytest.mark.django_db
def test_staff_see_why_the_model_cannot_load(staff_client, missing_model, settings):
    body = staff_client.get("/readyz").json()
    assert body["failing"] == ["model"]
    assert body["checks"]["model"] == "error"
    assert "export_onnx" in body["errors"]["model"]
    assert str(settings.CLASSIFIER_ONNX_PATH) in body["errors"]["model"]


@pytest.mark.django_db
def test_other_users_get_the_public_answer(client, django_user_model, missing_model):
    client.force_login(django_user_model.objects.create_user("birder", password="unused"))
    assert client.get("/readyz").json() == public_answer("model")


@pytest.mark.django_db
def test_it_names_storage_when_the_media_root_cannot_be_created(
    client, settings, tmp_path, caplog, django_user_model
):
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where a directory should be")
    settings.MEDIA_ROOT = blocker / "media"  # fails even for root, unlike permissions
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == public_answer("storage")
    assert str(tmp_path) not in response.content.decode()
    assert str(blocker) in logged_detail(caplog, "storage")

    staff = django_user_model.objects.create_user("warden", password="unused", is_staff=True)
    client.force_login(staff)
    assert str(blocker) in client.get("/readyz").json()["errors"]["storage"]


# BEGIN ASSIGNMENT 2
@pytest.mark.django_db
def test_it_checks_the_s3_bucket(client, settings, s3_server):
    bucket = s3_server.create_bucket("readyz-ok")
    settings.STORAGES = s3_storages(s3_server, bucket)
    response = client.get("/readyz")
    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_it_names_storage_but_not_the_bucket_when_the_bucket_is_missing(
    client, settings, s3_server, caplog
):
    settings.STORAGES = s3_storages(s3_server, "no-such-bucket")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == public_answer("storage")
    assert "404" in logged_detail(caplog, "storage")


@pytest.mark.django_db
def test_an_s3_outage_shows_no_endpoint_publicly_but_to_staff(
    client, settings, s3_server, caplog, django_user_model
):
    bucket = s3_server.create_bucket("readyz-outage")
    settings.STORAGES = s3_storages(s3_server, bucket)
    endpoint = s3_server.django_environment(bucket)["AWS_S3_ENDPOINT_URL"]
    staff = django_user_model.objects.create_user("warden", password="unused", is_staff=True)
    s3_server.stop()
    try:
        public = client.get("/readyz")
        client.force_login(staff)
        for_staff = client.get("/readyz")
    finally:
        s3_server.start()
    assert public.status_code == 503
    assert public.json() == public_answer("storage")
    for secret in (endpoint, endpoint.split("://")[1], bucket):
        assert secret not in public.content.decode()
    assert endpoint in logged_detail(caplog, "storage")
    assert for_staff.status_code == 503
    assert endpoint in for_staff.json()["errors"]["storage"]


# END ASSIGNMENT 2
# transaction=True: outside a test transaction the connection really closes, and the
# check makes a new one, which names the server it could not reach.
@pytest.mark.django_db(transaction=True)
def test_a_database_outage_shows_no_host_publicly_but_in_the_log(
    client, database_cluster, caplog, django_user_model
):
    staff = django_user_model.objects.create_user("warden", password="unused", is_staff=True)
    staff_client = type(client)()
    staff_client.force_login(staff)
    database = connection.settings_dict
    connection.close()
    database_cluster.stop()
    try:
        public = client.get("/readyz")
        for_staff = staff_client.get("/readyz")
    finally:
        database_cluster.start()
        connection.close()
    assert public.status_code == 503
    assert public.json() == public_answer("database")
    detail = logged_detail(caplog, "database")
    assert "OperationalError" in detail
    assert f"port {database['PORT']}" in detail
    # Staff are known by their session, which lives in the database that is down: they
    # get the same JSON answer (not an error page), and the log has the detail.
    assert for_staff.status_code == 503
    assert for_staff.json() == public_answer("database")


# --- Any Host (a load balancer's probe) ---------------------------------------------

PRIVATE_IP = "10.1.2.3"  # what an AWS load balancer sends as Host when it probes


@pytest.fixture
def production_hosts(settings):
    """ALLOWED_HOSTS and the HTTPS settings as BIRDAI_PRODUCTION sets them behind a
    load balancer that ends TLS (birdai/settings.py)."""
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["bird.example.com"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_the_probes_answer_a_private_ip_as_host(client, production_hosts, path):
    response = client.get(path, HTTP_HOST=PRIVATE_IP)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_a_failing_probe_by_ip_gets_the_public_answer(client, production_hosts, missing_model):
    response = client.get("/readyz", HTTP_HOST=PRIVATE_IP)
    assert response.status_code == 503
    assert response.json() == public_answer("model")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/history/",  # ASSIGNMENT 2
        "/api/v1/me",
        "/admin/",
        "/healthz/",
    ],
)
def test_every_other_path_keeps_allowed_hosts(client, production_hosts, path):
    response = client.get(path, HTTP_HOST=PRIVATE_IP, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 400


@pytest.mark.django_db
def test_the_https_redirect_still_spares_the_probes(client, production_hosts):
    site = "bird.example.com"
    assert client.get("/", HTTP_HOST=site).status_code == 301  # plain HTTP: to https://
    assert client.get("/", HTTP_HOST=site)["Location"] == f"https://{site}/"
    assert client.get("/healthz", HTTP_HOST=site).status_code == 200
    assert client.get("/readyz", HTTP_HOST=site).status_code == 200
    assert client.get("/healthz", HTTP_HOST=PRIVATE_IP).status_code == 200


def test_a_probe_by_ip_answers_only_get(client, production_hosts):
    assert client.post("/healthz", HTTP_HOST=PRIVATE_IP).status_code == 405


def test_a_real_server_answers_probes_by_ip_and_nothing_else(onnx_model, tmp_path):
    """gunicorn with DEBUG off and only the site's name in ALLOWED_HOSTS, probed as an
    AWS load balancer does: over HTTP, with the instance's private IP as Host."""
    env = {
        "BIRDAI_VAR_DIR": str(tmp_path),
        "CLASSIFIER_ONNX_PATH": str(onnx_model),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "bird.example.com",
    }
    if os.environ.get("DATABASE_URL"):  # the PostGIS run: the same cluster
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    by_ip = {"Host": PRIVATE_IP}
    with Gunicorn(env, workers=1) as server:
        healthz = http_get(server.url + "/healthz", headers=by_ip)
        readyz = http_get(server.url + "/readyz", headers=by_ip)
        page = http_get(server.url + "/", headers=by_ip)
        api = http_get(server.url + "/api/v1/openapi.json", headers=by_ip)
    assert (healthz.status, readyz.status) == (200, 200), (healthz.body, readyz.body)
    assert (page.status, api.status) == (400, 400)
