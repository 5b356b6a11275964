"""/healthz says the process lives; /readyz checks the database, the model and storage."""

import pytest
from django.db import connection

from tests.storages import s3_storages


def test_it_answers_healthz_without_touching_dependencies(client, missing_model):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_it_is_ready_when_everything_works(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "model": "ok", "storage": "ok"}


@pytest.mark.django_db
def test_it_names_the_model_when_it_cannot_load(client, missing_model):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["model"]
    assert "export_onnx" in body["checks"]["model"]


@pytest.mark.django_db
def test_it_names_storage_when_the_media_root_cannot_be_created(client, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where a directory should be")
    settings.MEDIA_ROOT = blocker / "media"  # fails even for root, unlike permissions
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["storage"]


@pytest.mark.django_db
def test_it_checks_the_s3_bucket(client, settings, s3_server):
    bucket = s3_server.create_bucket("readyz-ok")
    settings.STORAGES = s3_storages(s3_server, bucket)
    response = client.get("/readyz")
    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_it_names_storage_when_the_bucket_is_missing(client, settings, s3_server):
    settings.STORAGES = s3_storages(s3_server, "no-such-bucket")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["storage"]


@pytest.mark.django_db
def test_it_names_storage_when_s3_is_down(client, settings, s3_server):
    bucket = s3_server.create_bucket("readyz-outage")
    settings.STORAGES = s3_storages(s3_server, bucket)
    s3_server.stop()
    try:
        response = client.get("/readyz")
    finally:
        s3_server.start()
    assert response.status_code == 503
    assert response.json()["failing"] == ["storage"]


@pytest.mark.django_db
def test_it_names_the_database_when_it_is_down(client, database_cluster):
    connection.close()
    database_cluster.stop()
    try:
        response = client.get("/readyz")
    finally:
        database_cluster.start()
        connection.close()
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
