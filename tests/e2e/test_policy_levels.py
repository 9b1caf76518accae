"""Code policy over HTTP: `standard` refuses calls, not names; `strict` is the original
service's SecurityPolicy (allow-list, forbidden builtins, string patterns)."""
import os

import pytest

from conftest import start_server

P = "Security policy violation: "


@pytest.fixture(scope="module")
def strict():
    # Its own cgroup prefix: stopping a second server that shares the session server's
    # prefix makes the session server's later cgroup_create fail.
    prefix = os.environ.get("CGROUP_PREFIX", "pysandbox") + "-strict"
    with start_server(env={"CODE_POLICY": "strict", "PREFORK_RUNS": "0",
                           "CGROUP_PREFIX": prefix}) as s:
        yield s


def assert_refused(body, message):
    assert body["success"] is False and body["status"] == "policy_violation", body
    assert body["error"] == P + message
    assert body["stdout"] == "" and body["stderr"] == ""


@pytest.mark.parametrize("code, message", [
    ("import os\nos.posix_spawn('/bin/true', ['true'], {})",
     "Dangerous module call detected: os.posix_spawn"),
    ("import os\ngetattr(os, 'sys' + 'tem')('true')", "Dangerous module call detected: os.system"),
    ("e = eval\nprint(e('1 + 1'))", "Dangerous builtin function detected: eval"),
    ("import sys\nsys.modules['socket'].socket().bind(('127.0.0.1', 0))",
     "Dangerous socket operation detected: bind"),
])
def test_standard_refuses_calls(server, code, message):
    assert_refused(server.execute(code).json(), message)


def test_standard_allows_names_that_are_not_called(server):
    code = ("import inspect, socket, subprocess\n"
            "def f(a):\n    pass\n"
            "print(eval, subprocess.PIPE, inspect.signature(f).bind(1).arguments)")
    body = server.execute(code).json()
    assert body["status"] == "ok", body
    assert body["stdout"] == "<built-in function eval> -1 {'a': 1}\n"


@pytest.mark.parametrize("code, message", [
    ("# This code uses __builtins__\nprint(1)", "Dangerous string pattern detected: __builtins__"),
    ("func = 'eval'", "Dangerous string pattern detected: 'eval'"),
    ("import pandas as pd", "Module import not allowed: pandas"),
    ("open('out.txt', 'w').write('x')", "Dangerous builtin function detected: open"),
    ("import os", "Dangerous module import detected: os"),
])
def test_strict_refuses_like_the_original(strict, code, message):
    assert_refused(strict.execute(code).json(), message)


def test_strict_runs_what_the_original_allowed(strict):
    code = "import math, json, collections.abc\nprint(json.dumps(math.floor(math.pi)))"
    body = strict.execute(code).json()
    assert body["status"] == "ok" and body["stdout"] == "3\n", body


def test_strict_syntax_error_is_not_a_policy_violation(strict):
    body = strict.execute("import math\nprint(math.pi").json()
    assert body["status"] == "error" and "SyntaxError" in body["stderr"], body
