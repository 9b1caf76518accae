"""Run history with the defaults (AUTH_MODE=none, HISTORY=metadata): ./state made at start, a
run_id added to /execute's answer and nothing else changed, /runs and /runs/{id}; HISTORY=off
records nothing; a damaged or read-only SQLite file at start is a clear error and stays as
it was."""
import json
import os
import re
import sqlite3
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import start_server

BIN = os.environ.get("PYSANDBOX_BIN", "")
RUN_ID = re.compile(r"^run_[A-Za-z0-9_-]{22}$")
ORIGINAL_FIELDS = {"success", "stdout", "stderr", "execution_time", "files", "error"}


@pytest.fixture(scope="module")
def default_server():
    with start_server() as s:
        yield s


def test_defaults_add_only_run_id(default_server):
    s = default_server
    r = s.execute('print("hi")')
    body = r.json()
    assert r.status_code == 200 and body["stdout"] == "hi\n"
    assert ORIGINAL_FIELDS <= set(body)
    assert RUN_ID.match(body["run_id"])
    ids = {s.execute("print(1)").json()["run_id"] for _ in range(20)}
    assert len(ids) == 20
    db = os.path.join(s._cwd.name, "state", "pysandbox.db")
    assert os.path.isfile(db), "STATE_DIR defaults to ./state, made at start"
    assert oct(os.stat(os.path.dirname(db)).st_mode & 0o777) == "0o700"


def wait_recorded(url, run_id):
    """The record of `run_id` (history is written off the request path, within moments)."""
    deadline = time.monotonic() + 10
    while True:
        r = requests.get(url + "/runs/" + run_id, timeout=10)
        if r.status_code == 200 or time.monotonic() > deadline:
            return r
        time.sleep(0.05)


def test_runs_without_keys_show_every_run(default_server):
    s = default_server
    run_id = s.execute("import sys; print('x'); sys.exit(2)").json()["run_id"]
    rec = wait_recorded(s.url, run_id).json()
    assert (rec["run_id"], rec["status"], rec["exit_code"], rec["key_id"], rec["stdout_bytes"]) == (
        run_id, "error", 2, None, 2)
    assert "code" not in rec and "stdout" not in rec, "HISTORY=metadata keeps no code or output"
    listed = requests.get(s.url + "/runs", params={"limit": 1}, timeout=10).json()
    assert listed["runs"][0]["run_id"] == run_id and listed["next"] == run_id
    assert requests.get(s.url + "/runs/run_nope", timeout=10).status_code == 404


def test_history_off_records_nothing():
    with start_server(env={"HISTORY": "off"}) as s:
        run_id = s.execute("print(1)").json()["run_id"]
        assert RUN_ID.match(run_id)
        time.sleep(0.5)
        assert requests.get(s.url + "/runs", timeout=10).json() == {"runs": [], "next": None}
        assert requests.get(s.url + "/runs/" + run_id, timeout=10).status_code == 404


def serve_fails(env, cwd):
    full = dict(os.environ, HOST="127.0.0.1", **env)
    r = subprocess.run([BIN, "serve", "--port", "0"], cwd=cwd, env=full, capture_output=True,
                       text=True, timeout=120)
    return r


def test_damaged_sqlite_file_is_a_clear_error(tmp_path):
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    garbage = b"this is not a database" * 500
    (state / "pysandbox.db").write_bytes(garbage)
    r = serve_fails({"STATE_DIR": str(state)}, tmp_path)
    assert r.returncode != 0
    assert "cannot open the store" in r.stderr and "corrupt" in r.stderr, r.stderr[-2000:]
    assert (state / "pysandbox.db").read_bytes() == garbage, "no data loss"


def test_read_only_sqlite_file_is_a_clear_error(tmp_path):
    # Root ignores file modes: a read-only mount (in a mount namespace of the test's own).
    keys = subprocess.run([BIN, "keys", "create", "--name", "x"], cwd=tmp_path, capture_output=True,
                          text=True, env=dict(os.environ, STATE_DIR=str(tmp_path / "state")))
    assert keys.returncode == 0, keys.stderr
    before = (tmp_path / "state" / "pysandbox.db").read_bytes()
    script = (f"mount --bind {tmp_path} {tmp_path} && mount -o remount,bind,ro {tmp_path} && "
              f"exec {BIN} serve --port 0")
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, HOST="127.0.0.1", STATE_DIR=str(tmp_path / "state")))
    assert r.returncode != 0
    assert "cannot open the store" in r.stderr and "read_only" in r.stderr, r.stderr[-2000:]
    assert (tmp_path / "state" / "pysandbox.db").read_bytes() == before
    con = sqlite3.connect(tmp_path / "state" / "pysandbox.db")
    assert con.execute("SELECT count(*) FROM api_keys").fetchone() == (1,)


def test_anon_limits_per_client_address():
    with start_server(env={"ANON_RATE": "0.1/s", "ANON_BURST": "2"}) as s:
        assert [s.execute("print(1)").status_code for _ in range(2)] == [200, 200]
        r = s.execute("print(1)")
        assert r.status_code == 429 and "Rate limit" in r.json()["detail"]
        assert r.headers["RateLimit-Limit"] == "2" and int(r.headers["Retry-After"]) >= 1
        assert requests.get(s.url + "/health", timeout=10).status_code == 200  # public: not counted


def cli_key(cwd, *args):
    r = subprocess.run([BIN, "keys", "create", "--name", "m", "--json", *args], cwd=cwd,
                       capture_output=True, text=True, timeout=60,
                       env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"})
    assert r.returncode == 0, r.stderr
    return {"Authorization": "Bearer " + json.loads(r.stdout)["key"]}


def test_metrics_auth_admin(tmp_path):
    state = str(tmp_path / "state")
    admin = cli_key(tmp_path, "--role", "admin", "--state-dir", state)
    user = cli_key(tmp_path, "--state-dir", state)
    with start_server(env={"METRICS_AUTH": "admin", "STATE_DIR": state}) as s:
        assert requests.get(s.url + "/metrics", timeout=10).status_code == 401
        assert requests.get(s.url + "/metrics", headers=user, timeout=10).status_code == 403
        r = requests.get(s.url + "/metrics", headers=admin, timeout=10)
        assert r.status_code == 200 and "pysandbox_runs" in r.text
        assert s.execute("print(1)").status_code == 200, "AUTH_MODE=none: runs need no key"
