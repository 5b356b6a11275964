"""The OpenAPI schema is generated from the code and describes the real API."""


def test_it_serves_a_schema_for_classify(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    operation = schema["paths"]["/api/v1/classify"]["post"]
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert "image" in form["properties"]
    assert set(operation["responses"]) >= {"200", "400", "413", "415", "503"}


def test_it_describes_the_classification_fields(client):
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    fields = schemas["Classification"]["properties"]
    assert set(fields) == {
        "is_bird",
        "bird_probability",
        "species",
        "top_class",
        "model",
        "elapsed_ms",
    }
    assert set(schemas["Error"]["properties"]) == {"error", "message"}


def test_it_serves_the_docs_page_without_a_third_party_cdn(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    assert "cdn.jsdelivr.net" not in html
    assert "unpkg.com" not in html
