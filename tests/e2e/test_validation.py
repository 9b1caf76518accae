"""Every 4xx of POST /execute: pydantic-style 422s, the service's 400s, 413, hostile JSON."""
import base64

import pytest
import requests

from conftest import start_server


def post(base_url, payload=None, data=None, headers=None):
    if data is None:
        return requests.post(base_url + "/execute", json=payload, headers=headers, timeout=30)
    return requests.post(base_url + "/execute", data=data, headers=headers, timeout=30)


def only_error(r):
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert len(detail) == 1, detail
    return detail[0]


def test_missing_code(base_url):
    e = only_error(post(base_url, {"timeout": 5}))
    assert e == {"type": "missing", "loc": ["body", "code"], "msg": "Field required",
                 "input": {"timeout": 5}}


def test_code_not_a_string(base_url):
    e = only_error(post(base_url, {"code": 123}))
    assert e == {"type": "string_type", "loc": ["body", "code"],
                 "msg": "Input should be a valid string", "input": 123}


@pytest.mark.parametrize("timeout,expected", [
    (500, {"type": "less_than_equal", "loc": ["body", "timeout"],
           "msg": "Input should be less than or equal to 300", "input": 500, "ctx": {"le": 300}}),
    (0, {"type": "greater_than_equal", "loc": ["body", "timeout"],
         "msg": "Input should be greater than or equal to 1", "input": 0, "ctx": {"ge": 1}}),
    ("abc", {"type": "int_parsing", "loc": ["body", "timeout"],
             "msg": "Input should be a valid integer, unable to parse string as an integer",
             "input": "abc"}),
    (1.5, {"type": "int_from_float", "loc": ["body", "timeout"],
           "msg": "Input should be a valid integer, got a number with a fractional part",
           "input": 1.5}),
    (None, {"type": "int_type", "loc": ["body", "timeout"],
            "msg": "Input should be a valid integer", "input": None}),
    ([1], {"type": "int_type", "loc": ["body", "timeout"],
           "msg": "Input should be a valid integer", "input": [1]}),
])
def test_timeout_errors(base_url, timeout, expected):
    assert only_error(post(base_url, {"code": "print(1)", "timeout": timeout})) == expected


def test_files_not_an_object(base_url):
    e = only_error(post(base_url, {"code": "print(1)", "files": "x"}))
    assert e == {"type": "dict_type", "loc": ["body", "files"],
                 "msg": "Input should be a valid dictionary", "input": "x"}


def test_file_value_not_a_string(base_url):
    e = only_error(post(base_url, {"code": "print(1)", "files": {"a.txt": 1}}))
    assert e["type"] == "string_type" and e["loc"] == ["body", "files", "a.txt"]


def test_all_errors_reported(base_url):
    r = post(base_url, {"code": 1, "timeout": 0, "files": 2})
    assert r.status_code == 422
    assert [e["type"] for e in r.json()["detail"]] == [
        "string_type", "greater_than_equal", "dict_type"]


def test_malformed_json(base_url):
    e = only_error(post(base_url, data=b'{"code": ', headers={"Content-Type": "application/json"}))
    assert e["type"] == "json_invalid" and e["msg"] == "JSON decode error"
    assert e["loc"][0] == "body" and isinstance(e["loc"][1], int)
    assert e["input"] == {} and "error" in e["ctx"]


def test_body_not_an_object(base_url):
    e = only_error(post(base_url, [1, 2]))
    assert e["type"] == "model_attributes_type"
    assert e["msg"] == "Input should be a valid dictionary or object to extract fields from"


@pytest.mark.parametrize("body", [
    b"[" * 100 + b"]" * 100,                 # too deep
    b'{"code": "x", "timeout": 1e999}',       # number out of range
    b'{"code": "\xff"}',                      # invalid UTF-8
])
def test_hostile_json_gets_4xx_with_reason(base_url, body):
    r = post(base_url, data=body, headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500
    assert r.json()["detail"]


@pytest.mark.parametrize("code", ["", "   ", "\n\t  \n"])
def test_empty_code(base_url, code):
    r = post(base_url, {"code": code})
    assert r.status_code == 400
    assert r.json() == {"detail": "代码不能为空"}


def test_code_too_long_counts_characters(base_url):
    r = post(base_url, {"code": "#" + "é" * 100000})
    assert r.status_code == 400
    assert r.json() == {"detail": "代码长度不能超过 100000 字符"}


@pytest.mark.parametrize("name", [
    "/etc/passwd", "../escape.txt", "a/../../b", "", "a\x00b", "a\nb", "a//b", "main.py",
    "a\\b", "x" * 256])
def test_unsafe_file_names(base_url, name):
    r = post(base_url, {"code": "print(1)", "files": {name: "YQ=="}})
    assert r.status_code == 400, r.text
    assert "file name" in r.json()["detail"]


def test_invalid_base64(base_url):
    r = post(base_url, {"code": "print(1)", "files": {"data.txt": "not base64!!"}})
    assert r.status_code == 400
    assert "data.txt" in r.json()["detail"]


def test_file_too_large(base_url):
    content = base64.b64encode(b"x" * (10 * 1024 * 1024 + 1)).decode()
    r = post(base_url, {"code": "print(1)", "files": {"big.bin": content}})
    assert r.status_code == 400
    assert "big.bin" in r.json()["detail"]


def test_duplicate_keys_last_one_wins(server):
    body = b'{"code": "print(1)", "code": "print(open(\'f\').read())", "files": {"f": "YQ==", "f": "Yg=="}}'
    r = post(server.url, data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["stdout"] == "b\n"


def test_utf8_bom_is_accepted(server):
    r = post(server.url, data=b'\xef\xbb\xbf{"code": "print(7)"}',
             headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["stdout"] == "7\n"


def test_invalid_utf8_is_fastapis_text(base_url):
    r = post(base_url, data=b'{"code": "\xff"}', headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json() == {"detail": "There was an error parsing the body"}


def test_body_too_large_gets_413():
    with start_server(env={"MAX_BODY_SIZE": "65536", "MAX_CODE_LENGTH": "1000"}) as s:
        r = requests.post(s.url + "/execute", json={"code": "#" * 200000}, timeout=30)
        assert r.status_code == 413
        assert r.headers["content-type"] == "application/json"
        assert "too large" in r.json()["detail"]


def test_header_too_large_gets_431(base_url):
    r = requests.get(base_url + "/health", headers={"X-Big": "a" * 20000})
    assert r.status_code == 431


@pytest.mark.parametrize("names,bad,parent", [
    (["a", "a/b"], "a/b", "'a' is an input file"),
    (["a/b", "a"], "a/b", "'a' is an input file"),
    (["x/y/z", "x/y"], "x/y/z", "'x/y' is an input file"),
    (["main.py/x"], "main.py/x", "'main.py' is the submitted code"),
])
def test_file_and_directory_of_the_same_name(base_url, names, bad, parent):
    r = post(base_url, {"code": "print(1)", "files": {n: "YQ==" for n in names}})
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert detail.startswith(f"Invalid file name '{bad}': {parent}"), detail
