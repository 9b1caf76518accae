"""Many runs at once; /health stays fast under load; a client that leaves cancels its run."""
import concurrent.futures
import json
import socket
import time

import requests


def test_ten_concurrent_short_runs(server):
    code = "import time\ntime.sleep(0.1)\nprint('ok')"
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda _: server.execute(code).json(), range(10)))
    elapsed = time.monotonic() - start
    assert all(r["success"] and r["stdout"] == "ok\n" for r in results), results
    assert elapsed < 2.0, elapsed


def test_health_is_fast_while_runs_sleep(server):
    code = "import time\ntime.sleep(3)"
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(server.execute, code) for _ in range(8)]
        time.sleep(0.5)  # let them start
        worst = 0.0
        for _ in range(10):
            start = time.monotonic()
            r = requests.get(server.url + "/health", timeout=5)
            worst = max(worst, time.monotonic() - start)
            assert r.status_code == 200
        for f in futures:
            assert f.result().status_code == 200
    assert worst < 0.1, worst


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_disconnect_cancels_run(server):
    def running():
        return requests.get(server.url + "/health", timeout=5).json()["runs"]["running"]

    assert wait_for(lambda: running() == 0, 10)
    port = int(server.url.rsplit(":", 1)[1])
    body = json.dumps({"code": "import time\ntime.sleep(60)", "timeout": 120}).encode()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    assert wait_for(lambda: running() == 1, 10)
    s.close()
    assert wait_for(lambda: running() == 0, 3), "run not cancelled after client disconnect"
