"""GET /, /health, /runtime, 404/405, CORS, framing (keep-alive, JSON headers)."""
import re
import socket
import time

import requests

from conftest import start_server

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_root(base_url):
    r = requests.get(base_url + "/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["message"] == "SimplePySandbox API"
    assert body["docs"] == "/docs" and body["health"] == "/health"
    assert isinstance(body["version"], str) and body["version"]
    assert list(body) == ["message", "version", "docs", "health"]


def test_health(base_url):
    start = time.monotonic()
    r = requests.get(base_url + "/health")
    assert time.monotonic() - start < 0.1
    assert r.status_code == 200
    body = r.json()
    assert body["status"] in ("healthy", "degraded")
    assert TIMESTAMP.match(body["timestamp"]), body["timestamp"]
    assert set(body["runs"]) == {"running", "queued", "capacity", "queue_capacity", "prepared"}
    assert isinstance(body["layers"], list) and isinstance(body["reasons"], list)
    assert "version" in body["python"] and "packages" in body["python"]


def test_runtime(base_url):
    body = requests.get(base_url + "/runtime").json()
    # Empty until the engine has reported its interpreter (first zygote ready).
    assert body["python_version"] == "" or re.match(r"^3\.\d+", body["python_version"])
    assert isinstance(body["packages"], dict)


def test_unknown_path_is_404_json(base_url):
    r = requests.get(base_url + "/does-not-exist")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"detail": "Not Found"}


def test_trailing_slash_redirects_with_307(base_url):
    r = requests.post(base_url + "/execute/?x=1", json={"code": "print(6*7)"}, timeout=60,
                      allow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == "/execute?x=1"
    # requests re-sends the body to the new location, as it does against FastAPI.
    r = requests.post(base_url + "/execute/", json={"code": "print(6*7)"}, timeout=60)
    assert [h.status_code for h in r.history] == [307]
    assert r.status_code == 200 and r.json()["stdout"] == "42\n"
    r = requests.get(base_url + "/health/")
    assert r.status_code == 200 and r.url == base_url + "/health"
    assert requests.get(base_url + "/nope/", allow_redirects=False).status_code == 404


def raw_request(base_url, request_bytes):
    host, port = base_url.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(request_bytes)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def test_absolute_form_target_routes_by_its_path(base_url):
    hostport = base_url.rsplit("/", 1)[1]
    data = raw_request(base_url, f"GET {base_url}/health HTTP/1.1\r\nHost: {hostport}\r\n"
                                 "Connection: close\r\n\r\n".encode())
    assert data.startswith(b"HTTP/1.1 200 "), data[:200]
    assert b'"status":' in data


def test_wrong_method_is_405_with_allow(base_url):
    r = requests.get(base_url + "/execute")
    assert r.status_code == 405
    assert r.json() == {"detail": "Method Not Allowed"}
    assert r.headers["allow"] == "POST"
    r = requests.delete(base_url + "/health")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD"


def test_cors_preflight(base_url):
    r = requests.options(base_url + "/execute", headers={
        "Origin": "http://example.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 200
    assert r.text == "OK"
    assert r.headers["access-control-allow-origin"] == "http://example.com"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert r.headers["access-control-allow-headers"] == "content-type"
    assert r.headers["access-control-allow-credentials"] == "true"


def test_cors_simple_response(base_url):
    r = requests.get(base_url + "/health", headers={"Origin": "http://example.com"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-credentials"] == "true"


def test_keep_alive_reuses_connection(base_url):
    with requests.Session() as s:
        for _ in range(5):
            r = s.get(base_url + "/health")
            assert r.status_code == 200
            assert int(r.headers["content-length"]) == len(r.content)


def test_request_id_header(base_url):
    r = requests.get(base_url + "/")
    assert r.headers.get("x-request-id")


def test_stalled_client_does_not_block_others(base_url):
    host, port = base_url.rsplit(":", 1)
    stalled = socket.create_connection(("127.0.0.1", int(port)))
    try:
        stalled.sendall(b"POST /execute HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        start = time.monotonic()
        assert requests.get(base_url + "/health", timeout=5).status_code == 200
        assert time.monotonic() - start < 0.5
    finally:
        stalled.close()


def test_garbage_request_gets_400(base_url):
    port = int(base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"HELLO\r\n\r\n")
        data = s.recv(4096)
    assert data.startswith(b"HTTP/1.1 400")


def test_loopback_host_is_decided_by_its_address_and_warned_once_at_most():
    # An IPv4-mapped loopback address is loopback (it was warned about twice: once by a text
    # comparison and once by address_v6::is_loopback, which knows only ::1).
    with start_server(env={"HOST": "::ffff:127.0.0.1"}) as s:
        assert requests.get(s.url + "/health", timeout=10).status_code == 200
        assert not [l for l in s.log if "non-loopback" in l], s.log
