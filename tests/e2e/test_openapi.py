"""GET /openapi.json and /docs: the document parses, lists the routes, and the execute
response schema matches what /execute really answers (so the file cannot drift silently)."""
import requests


def document(base_url):
    r = requests.get(base_url + "/openapi.json", timeout=10)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    return r.json()


def test_openapi_lists_the_endpoints(base_url):
    doc = document(base_url)
    assert doc["openapi"].startswith("3.1")
    paths = doc["paths"]
    for path, method in [("/", "get"), ("/health", "get"), ("/runtime", "get"),
                         ("/execute", "post")]:
        assert method in paths[path], path


def schema(doc, name):
    return doc["components"]["schemas"][name]


def test_execute_response_schema_matches_a_real_response(server):
    doc = document(server.url)
    ref = doc["paths"]["/execute"]["post"]["responses"]["200"]["content"]["application/json"]
    assert ref["schema"]["$ref"] == "#/components/schemas/ExecuteResponse"
    response_schema = schema(doc, "ExecuteResponse")
    body = server.execute("print(1)").json()
    assert list(response_schema["properties"]) == list(body)  # same fields, same order
    assert set(response_schema["required"]) == set(body)
    request_fields = set(schema(doc, "ExecuteRequest")["properties"])
    assert request_fields == {"code", "timeout", "files", "network"}


def test_other_response_schemas_match_real_responses(base_url):
    doc = document(base_url)
    for path, name in [("/", "RootResponse"), ("/health", "HealthResponse"),
                       ("/runtime", "RuntimeResponse")]:
        body = requests.get(base_url + path, timeout=10).json()
        assert list(schema(doc, name)["properties"]) == list(body), path
    health = requests.get(base_url + "/health", timeout=10).json()
    assert set(schema(doc, "RunCounts")["properties"]) == set(health["runs"])
    assert set(schema(doc, "PythonInfo")["properties"]) == set(health["python"])


def test_docs_is_html_pointing_at_the_document(base_url):
    r = requests.get(base_url + "/docs", timeout=10)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in r.text and "swagger-ui" in r.text
