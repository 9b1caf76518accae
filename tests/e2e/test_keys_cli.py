"""`pysandbox keys`: create, list, update, revoke on SQLite (STATE_DIR) and on a real
PostgreSQL 15 (DATABASE_URL) started here; the key shown once, only its hash stored; a damaged
SQLite file is a clear error that changes nothing."""
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from postgres import PostgresCluster  # noqa: E402

BIN = os.environ.get("PYSANDBOX_BIN", "")
KEY = re.compile(r"^psk_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$")


def keys(*args, cwd, env=None):
    full = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "STATE_DIR")}
    full.update(env or {})
    return subprocess.run([BIN, "keys", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=60)


@pytest.fixture(scope="module")
def postgres():
    with PostgresCluster() as pg:
        yield pg


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return {"env": {}, "cwd": tmp_path}
    pg = request.getfixturevalue("postgres")
    url = pg.create_database("keys_" + str(abs(hash(str(tmp_path))) % 10**9))
    return {"env": {"DATABASE_URL": url}, "cwd": tmp_path}


def test_key_life(store):
    cwd, env = store["cwd"], store["env"]
    r = keys("create", "--name", "alice", "--rate", "5/s", "--burst", "20", "--concurrency", "2",
             "--sessions", "4", "--cpu-per-day", "3600", "--json", cwd=cwd, env=env)
    assert r.returncode == 0, r.stderr
    made = json.loads(r.stdout)
    assert KEY.match(made["key"]), made
    assert made["key"].startswith("psk_" + made["id"] + "_")
    assert (made["rate_per_second"], made["burst"], made["concurrency"], made["sessions"],
            made["cpu_seconds_per_day"]) == (5, 20, 2, 4, 3600)

    listed = json.loads(keys("list", "--json", cwd=cwd, env=env).stdout)
    assert [k["id"] for k in listed] == [made["id"]]
    assert "key" not in listed[0], "the key is shown once, at creation"
    assert made["key"] not in keys("list", cwd=cwd, env=env).stdout

    r = keys("update", made["id"], "--rate", "1/s", "--role", "admin", "--network", "no",
             "--json", cwd=cwd, env=env)
    assert r.returncode == 0, r.stderr
    assert (json.loads(r.stdout)["rate_per_second"], json.loads(r.stdout)["role"]) == (1, "admin")

    assert keys("revoke", made["id"], cwd=cwd, env=env).returncode == 0
    assert json.loads(keys("list", "--json", cwd=cwd, env=env).stdout) == []
    everything = json.loads(keys("list", "--all", "--json", cwd=cwd, env=env).stdout)
    assert everything[0]["revoked"] is not None

    missing = keys("revoke", "nosuchkey", cwd=cwd, env=env)
    assert missing.returncode == 3 and "no key nosuchkey" in missing.stderr


def test_sqlite_file_holds_only_the_hash(tmp_path):
    r = keys("create", "--name", "bob'); DROP TABLE api_keys; --", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    key = json.loads(r.stdout)["key"]
    state = tmp_path / "state"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    db = state / "pysandbox.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    raw = b"".join(p.read_bytes() for p in state.iterdir())
    assert key.encode() not in raw, "the key itself was stored"
    rows = sqlite3.connect(db).execute("SELECT name, length(key_hash) FROM api_keys").fetchall()
    assert rows == [("bob'); DROP TABLE api_keys; --", 32)]


def test_damaged_sqlite_file_is_a_clear_error_and_stays_as_it_was(tmp_path):
    assert keys("create", "--name", "x", cwd=tmp_path).returncode == 0
    db = tmp_path / "state" / "pysandbox.db"
    data = bytearray(db.read_bytes())
    data[0:16] = b"NOT SQLITE AT AL"
    db.write_bytes(bytes(data))
    r = keys("list", cwd=tmp_path)
    assert r.returncode == 1
    assert "corrupt" in r.stderr and str(db) in r.stderr, r.stderr
    assert db.read_bytes() == bytes(data)


def test_postgres_down_is_a_clear_error(postgres, tmp_path):
    url = postgres.url("postgres").replace("port=5432", "port=1")
    r = keys("list", cwd=tmp_path, env={"DATABASE_URL": url})
    assert r.returncode == 1
    assert "unavailable" in r.stderr and "postgresql://" in r.stderr, r.stderr


def test_usage_errors(tmp_path):
    for args in (["create"], ["create", "--name", "x", "--rate", "fast"], ["frobnicate"],
                 ["update"], ["create", "--name", "x", "--cap", "gpus=2"]):
        r = keys(*args, cwd=tmp_path)
        assert r.returncode == 2, (args, r.stderr)
        assert "usage: pysandbox keys" in r.stderr
    assert not (tmp_path / "state").exists(), "a usage error touched the store"


def test_webhook_secret_made_with_the_key_and_replaced_on_demand(store):
    cwd, env = store["cwd"], store["env"]
    made = json.loads(keys("create", "--name", "grader", "--json", cwd=cwd, env=env).stdout)
    first = made["webhook_secret"]
    assert re.fullmatch(r"whsec_[0-9a-f]{48}", first), made
    r = keys("webhook-secret", made["id"], "--json", cwd=cwd, env=env)
    assert r.returncode == 0, r.stderr
    second = json.loads(r.stdout)
    assert second["id"] == made["id"] and re.fullmatch(r"whsec_[0-9a-f]{48}", second["webhook_secret"])
    assert second["webhook_secret"] != first
    assert first not in keys("list", cwd=cwd, env=env).stdout
    r = keys("webhook-secret", "knosuchkey000", cwd=cwd, env=env)
    assert r.returncode == 3 and "no key" in r.stderr, r.stderr
    r = keys("webhook-secret", cwd=cwd, env=env)
    assert r.returncode == 2 and "which key id?" in r.stderr
