"""GET /metrics checked by `promtool check metrics` and scraped by a real Prometheus started here;
and the server on a real PostgreSQL 15 (started here) that is stopped and restarted under load:
runs never fail, /health says degraded meanwhile, and the history catches up."""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import pytest
import requests

from conftest import start_server

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from postgres import PostgresCluster, free_port  # noqa: E402

BIN = os.environ.get("PYSANDBOX_BIN", "")


@pytest.fixture(scope="module")
def pg():
    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def srv(pg):
    url = pg.create_database("wire")
    made = subprocess.run([BIN, "keys", "create", "--name", "load", "--rate", "0", "--concurrency",
                           "0", "--cpu-per-day", "0", "--json"], capture_output=True, text=True,
                          env=dict(os.environ, DATABASE_URL=url), timeout=60)
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    with start_server(env={"AUTH_MODE": "api_key", "DATABASE_URL": url,
                           "METRICS_AUTH": "none"}) as s:
        s.headers = {"X-API-Key": key["key"]}
        s.key_id = key["id"]
        yield s


def test_metrics_pass_promtool(srv):
    assert srv.execute("print(1)").status_code == 401  # counted by route and code too
    r = requests.post(srv.url + "/execute", json={"code": "print(1)"}, headers=srv.headers,
                      timeout=60)
    assert r.status_code == 200
    text = requests.get(srv.url + "/metrics", timeout=10)
    assert text.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    check = subprocess.run(["promtool", "check", "metrics"], input=text.text, capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    body = text.text
    for needle in ('pysandbox_runs_total{language="python",status="ok"}',
                   "pysandbox_run_duration_seconds_bucket", "pysandbox_queue_wait_seconds_bucket",
                   'pysandbox_runs{state="running"}', 'pysandbox_runs{state="prepared"}',
                   "pysandbox_sessions_live", 'route="/execute"', 'code="401"',
                   "pysandbox_history_queue_records", "process_resident_memory_bytes",
                   "process_cpu_seconds_total"):
        assert needle in body, needle


def test_a_real_prometheus_scrapes_the_server(srv, tmp_path):
    port = free_port()
    target = srv.url.removeprefix("http://")
    (tmp_path / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: pysandbox\n"
        f"    static_configs:\n      - targets: ['{target}']\n")
    prom = subprocess.Popen(
        ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prom.log", "w"))
    try:
        deadline = time.monotonic() + 60
        found = None
        while time.monotonic() < deadline and not found:
            time.sleep(1)
            try:
                q = urllib.parse.quote('pysandbox_http_requests_total{route="/execute"}')
                res = requests.get(f"http://127.0.0.1:{port}/api/v1/query?query={q}", timeout=5)
                found = res.json()["data"]["result"] if res.ok else None
            except requests.RequestException:
                pass
        assert found, (tmp_path / "prom.log").read_text()[-3000:]
        up = requests.get(f"http://127.0.0.1:{port}/api/v1/query?query=up", timeout=5).json()
        assert up["data"]["result"][0]["value"][1] == "1"
    finally:
        prom.terminate()
        prom.wait(timeout=30)


def test_postgres_restarted_under_load(srv, pg):
    stop = threading.Event()
    results = []

    def load():
        while not stop.is_set():
            r = requests.post(srv.url + "/execute", json={"code": "print(1)"},
                              headers=srv.headers, timeout=60)
            results.append((r.status_code, r.json().get("run_id")))

    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(1)
    pg.stop()
    degraded = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not degraded:
        h = requests.get(srv.url + "/health", timeout=10).json()
        if h["status"] == "degraded" and any("history" in x for x in h["reasons"]):
            degraded = h
        time.sleep(0.2)
    time.sleep(1)
    pg.start()
    time.sleep(1)
    stop.set()
    for t in threads:
        t.join()
    assert degraded, "/health never said degraded while PostgreSQL was down"
    assert results and all(code == 200 for code, _ in results), \
        [c for c, _ in results if c != 200][:5]
    ids = {run_id for _, run_id in results}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        stored = set(pg.psql("wire", "SELECT run_id FROM runs").split())
        if ids <= stored:
            break
        time.sleep(0.5)
    assert ids <= stored, f"{len(ids - stored)} of {len(ids)} runs missing from the history"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        reasons = requests.get(srv.url + "/health", timeout=10).json()["reasons"]
        store_reasons = [x for x in reasons if any(w in x for w in ("history", "key", "cpu", "rate"))]
        if not store_reasons:
            break
        time.sleep(0.5)
    assert not store_reasons, store_reasons
