"""Async jobs (issue 17): POST /jobs and GET /jobs/{id} on one server (SQLite store), signed
callbacks to a loopback receiver allowed by NETWORK_ALLOW, and the SSRF refusals without it."""
import os
import signal
import sys
import time

import pytest
import requests

from conftest import start_server

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from callback_receiver import CallbackReceiver, signature_ok  # noqa: E402

SECRET = "test-webhook-secret-0123456789"


def wait_job(url, job_id, timeout=60, states=("done", "failed")):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = requests.get(f"{url}/jobs/{job_id}", timeout=10)
        assert r.status_code == 200, r.text
        if r.json()["state"] in states:
            return r.json()
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not finished: {r.json()}")


def test_one_job_runs_and_its_result_has_the_execute_shape(server):
    r = requests.post(server.url + "/jobs", json={"code": "print(6 * 7)"}, timeout=10)
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    assert job_id.startswith("j") and list(r.json()) == ["job_id"]
    job = wait_job(server.url, job_id)
    assert job["state"] == "done" and job["attempts"] == 1
    assert job["created_at"] <= job["started_at"] <= job["finished_at"]
    [result] = job["results"]
    direct = server.execute("print(6 * 7)").json()
    # The /execute shape, field for field, but run_id: job runs are named by their job id and
    # are not in the run history (GET /runs).
    assert list(result) == [k for k in direct if k != "run_id"]
    assert result["stdout"] == "42\n" and result["success"] is True


def test_a_batch_runs_every_entry_and_answers_in_order(server):
    bodies = [{"code": f"print({i})"} for i in range(5)] + [{"code": "raise SystemExit(3)"}]
    r = requests.post(server.url + "/jobs", json={"batch": bodies}, timeout=10)
    assert r.status_code == 202, r.text
    batch = r.json()
    assert batch["job_id"].startswith("b") and len(batch["job_ids"]) == 6
    done = wait_job(server.url, batch["job_id"])
    assert done["state"] == "done" and done["size"] == 6
    assert done["counts"] == {"queued": 0, "running": 0, "done": 6, "failed": 0}
    assert [x["stdout"] for x in done["results"][:5]] == [f"{i}\n" for i in range(5)]
    assert done["results"][5]["exit_code"] == 3 and done["results"][5]["status"] == "error"
    one = requests.get(f"{server.url}/jobs/{batch['job_ids'][2]}", timeout=10).json()
    assert one["batch_id"] == batch["job_id"] and one["batch_index"] == 2
    assert one["results"][0]["stdout"] == "2\n"


def test_bodies_are_validated_as_execute_validates_them(server):
    for body in [{"code": 5}, {"code": "x", "timeout": 0}, {}, {"code": "   "}]:
        via_jobs = requests.post(server.url + "/jobs", json=body, timeout=10)
        via_execute = requests.post(server.url + "/execute", json=body, timeout=10)
        assert via_jobs.status_code == via_execute.status_code, body
        assert via_jobs.json() == via_execute.json(), body
    r = requests.post(server.url + "/jobs", json={"batch": [{"code": "1"}, {"code": 5}]},
                      timeout=10)
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "batch", 1, "code"]]
    r = requests.post(server.url + "/jobs", json={"batch": [{"code": "1"}, {"code": ""}]},
                      timeout=10)
    assert r.status_code == 400 and r.json()["detail"].startswith("batch[1]: ")
    r = requests.post(server.url + "/jobs", json={"batch": []}, timeout=10)
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "too_short"
    r = requests.post(server.url + "/jobs", json={"batch": {"code": "1"}}, timeout=10)
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "list_type"
    r = requests.post(server.url + "/jobs", json={"batch": [{"code": "1"}] * 1001}, timeout=10)
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "too_long"
    assert r.json()["detail"][0]["ctx"]["max_length"] == 1000


def test_unknown_job_is_404(server):
    for job_id in ["j000000000000000000000000", "b000000000000000000000000", "nothing"]:
        r = requests.get(f"{server.url}/jobs/{job_id}", timeout=10)
        assert r.status_code == 404 and r.json() == {"detail": "Job not found"}


def test_callback_needs_a_secret_and_refuses_blocked_addresses(server):
    # This server has no WEBHOOK_SECRET: a callback could not be signed.
    r = requests.post(server.url + "/jobs",
                      json={"code": "1", "callback_url": "http://192.0.2.1/x"}, timeout=10)
    assert r.status_code == 400 and "WEBHOOK_SECRET" in r.json()["detail"]
    with start_server(env={"WEBHOOK_SECRET": SECRET}) as s:
        for url in ["http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://169.254.169.254/latest",
                    "http://[::1]:80/", "http://[fd00::1]/", "ftp://example.com/",
                    "http://user@example.com/"]:
            r = requests.post(s.url + "/jobs", json={"code": "1", "callback_url": url}, timeout=10)
            assert r.status_code == 422, (url, r.text)
            assert r.json()["detail"][0]["loc"] == ["body", "callback_url"], url
        # A name is resolved at delivery: one pointing at loopback is refused then, not sent.
        with CallbackReceiver() as rx:
            url = f"http://localhost:{rx.port}/hook"
            r = requests.post(s.url + "/jobs", json={"code": "print(1)", "callback_url": url},
                              timeout=10)
            assert r.status_code == 202, r.text
            job_id = r.json()["job_id"]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                job = requests.get(f"{s.url}/jobs/{job_id}", timeout=10).json()
                if job.get("callback", {}).get("state") == "failed":
                    break
                time.sleep(0.1)
            assert job["callback"]["state"] == "failed", job
            assert "refused" in job["callback"]["error"] and job["callback"]["attempts"] == 1
            assert rx.tries(job_id) == 0


def test_callbacks_arrive_signed_and_are_retried_after_5xx():
    with CallbackReceiver(fail_first=1) as rx, start_server(
            env={"WEBHOOK_SECRET": SECRET, "NETWORK_ALLOW": f"127.0.0.1:{rx.port}"}) as s:
        r = requests.post(s.url + "/jobs", json={"batch": [{"code": "print('a')"},
                                                            {"code": "print('b')"}],
                                                  "callback_url": rx.url}, timeout=10)
        assert r.status_code == 202
        ids = r.json()["job_ids"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(rx.bodies()) < 2:
            time.sleep(0.1)
        bodies = sorted(rx.bodies(), key=lambda b: b["batch_index"])
        assert [b["job_id"] for b in bodies] == ids
        assert [b["results"][0]["stdout"] for b in bodies] == ["a\n", "b\n"]
        assert rx.all_signed(SECRET) and not rx.all_signed(SECRET + "x")
        h, raw = rx.posts[0]
        assert h["Content-Type"] == "application/json"
        assert signature_ok(SECRET, raw, h["X-Signature"])
        assert all(rx.tries(i) == 2 for i in ids)  # a 500, then the retry (after 1 s)
        job = requests.get(f"{s.url}/jobs/{ids[0]}", timeout=10).json()
        assert job["callback"]["state"] == "delivered" and job["callback"]["attempts"] == 2


def test_a_job_cut_short_by_shutdown_is_not_stored_and_runs_again_after_restart(tmp_path):
    env = {"STATE_DIR": str(tmp_path / "state"), "SHUTDOWN_GRACE": "1", "JOBS_LEASE": "5",
           "JOBS_POLL_MS": "50"}
    first = start_server(env=env)
    s = first.__enter__()
    try:
        r = requests.post(s.url + "/jobs", json={"code": "import time; time.sleep(4); print('x')"},
                          timeout=10)
        job_id = r.json()["job_id"]
        wait_job(s.url, job_id, timeout=20, states=("running",))
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(timeout=10) == 0  # grace 1 s: the run is killed, the job not stored
    finally:
        first.__exit__(None, None, None)
    with start_server(env=env) as again:
        job = requests.get(f"{again.url}/jobs/{job_id}", timeout=10).json()
        assert job["state"] in ("queued", "running"), job  # not "done" with a killed run
        job = wait_job(again.url, job_id, timeout=40)
        assert job["state"] == "done" and job["results"][0]["stdout"] == "x\n", job
