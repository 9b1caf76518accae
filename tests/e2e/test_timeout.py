"""Timeouts: sleeping and busy code are killed at the request's timeout."""
import pytest


@pytest.mark.parametrize("code", [
    "import time\nprint('before', flush=True)\ntime.sleep(10)\nprint('after')",
    "print('before', flush=True)\nwhile True:\n    pass",
])
def test_timeout(server, code):
    body = server.execute(code, timeout=2).json()
    assert body["success"] is False
    assert "超时" in body["error"]
    assert body["error"] == "代码执行超时（2秒）"
    assert body["status"] == "timeout"
    assert abs(body["execution_time"] - 2) <= 0.5, body["execution_time"]
    assert body["stdout"] == "before\n"  # output before the timeout is kept
    assert "after" not in body["stdout"]


def test_default_timeout_does_not_cut_short_runs(server):
    body = server.execute("import time\ntime.sleep(1.2)\nprint('done')").json()
    assert body["success"] is True and body["stdout"] == "done\n"


@pytest.mark.parametrize("code", [
    # Text without a newline sits in the stream buffers: flushed at the deadline, not lost.
    "import sys, time\nprint('partial', end='')\nsys.stderr.write('err part')\ntime.sleep(10)",
    "import sys\nsys.stdout.write('x' * 5000 + 'partial')\nwhile True:\n    pass",
    # Line by line, the last line unfinished.
    "import time\nfor i in range(3):\n    print(i)\nprint('partial', end='')\ntime.sleep(10)",
])
def test_unflushed_output_before_the_timeout_is_returned(server, code):
    body = server.execute(code, timeout=1).json()
    assert body["status"] == "timeout", body
    assert body["stdout"].endswith("partial"), body["stdout"][-50:]
    if "err part" in code:
        assert body["stderr"] == "err part", body["stderr"]
    assert abs(body["execution_time"] - 1) <= 0.5, body["execution_time"]
