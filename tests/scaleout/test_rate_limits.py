"""A key's rate limit holds across replicas (issue 17): three replicas on one PostgreSQL, a key
limited to 10 requests/s (burst 10), requests spread over all three as a balancer would: the
key gets at most 10/s (+10%) in all, and is refused (429) beyond."""
import concurrent.futures
import itertools
import json
import os
import subprocess
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import PostgresCluster, Replica, free_port  # noqa: E402

RATE, BURST, SECONDS = 10, 10, 6


def test_a_keys_rate_holds_across_three_replicas():
    with PostgresCluster() as pg:
        url = pg.create_database("rates")
        made = subprocess.run([os.environ["PYSANDBOX_BIN"], "keys", "create", "--name", "t",
                               "--rate", f"{RATE}/s", "--burst", str(BURST), "--concurrency", "0",
                               "--json"], env=dict(os.environ, DATABASE_URL=url),
                              capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        key = json.loads(made.stdout)["key"]
        replicas = [Replica(i, free_port(), url, "127.0.0.1:9") for i in (4, 5, 6)]
        try:
            for r in replicas:
                r.env["AUTH_MODE"] = "api_key"
                r.start()
            urls = itertools.cycle([r.url for r in replicas])
            lock = threading.Lock()
            codes = []
            deadline = time.monotonic() + SECONDS

            def client():
                s = requests.Session()
                s.headers["Authorization"] = f"Bearer {key}"
                while time.monotonic() < deadline:
                    with lock:
                        base = next(urls)
                    code = s.get(base + "/runtime", timeout=10).status_code
                    with lock:
                        codes.append(code)

            started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(6) as pool:
                list(pool.map(lambda _: client(), range(6)))
            elapsed = time.monotonic() - started
            granted = codes.count(200)
            print(f"granted {granted} of {len(codes)} in {elapsed:.1f} s")
            assert set(codes) <= {200, 429}, set(codes)
            assert codes.count(429) > granted, (granted, len(codes))  # it was pushed hard
            allowed = (RATE * elapsed + BURST) * 1.1
            assert granted <= allowed, (granted, allowed, elapsed)
            assert granted >= RATE * elapsed * 0.5, (granted, elapsed)  # and not starved
        finally:
            for r in replicas:
                r.stop()
                r.cwd.cleanup()
