"""Three replicas as one service (issue 17): requests through HAProxy survive a replica's
SIGKILL, a batch of jobs survives one too (at-least-once, each job done once, every callback
signed), and a replica drains on SIGTERM."""
import concurrent.futures
import os
import signal
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import SECRET  # noqa: E402

REQUEST_TIMEOUT_S = 30
CLIENTS = 16


def one_request(session, base, i):
    """The i-th request of the mix: (True, job id or status), or (False, (status, body))."""
    ok, r = send(session, base, i)
    if ok:
        return True, r.json().get("job_id") if i % 10 == 5 else r.status_code
    return False, (r.status_code, r.text[:200])


def send(session, base, i):
    kind = i % 10
    if kind < 4:
        r = session.post(base + "/execute", json={"code": f"print({i})"}, timeout=REQUEST_TIMEOUT_S)
        return r.status_code == 200 and r.json()["stdout"] == f"{i}\n", r
    if kind == 4:
        r = session.post(base + "/execute", json={"code": 5}, timeout=REQUEST_TIMEOUT_S)
        return r.status_code == 422, r
    if kind == 5:
        r = session.post(base + "/jobs", json={"code": f"print({i})"}, timeout=REQUEST_TIMEOUT_S)
        return r.status_code == 202, r
    r = session.get(base + ("/health" if kind < 8 else "/"), timeout=REQUEST_TIMEOUT_S)
    return r.status_code == 200, r


def wait_for(predicate, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def test_2000_requests_through_haproxy_while_a_replica_is_killed_and_restarted(cluster):
    local = threading.local()
    results = {}
    done_count = [0]
    lock = threading.Lock()

    def run(i):
        if not hasattr(local, "s"):
            local.s = requests.Session()
        start = time.monotonic()
        try:
            ok, detail = one_request(local.s, cluster.url, i)
        except requests.Timeout as e:
            ok, detail = False, f"timeout: {e}"
        except requests.RequestException as e:
            ok, detail = False, f"connection: {type(e).__name__}: {e}"
            local.s = requests.Session()
        with lock:
            results[i] = (ok, detail, start, time.monotonic())
            done_count[0] += 1

    victim = cluster.replicas[0]
    kill = {}

    def killer():
        try:
            wait_for(lambda: done_count[0] >= 600, 120)
            kill["at"] = time.monotonic()
            victim.kill()  # returns once the process is reaped: its sockets are closed then
            kill["dead"] = time.monotonic()
            time.sleep(1)
            victim.start(attempts=10)
            kill["back"] = time.monotonic()
        except Exception as e:  # reported by the assertion below
            kill["error"] = repr(e)

    t = threading.Thread(target=killer)
    t.start()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(run, range(2000)))
    t.join()
    assert len(results) == 2000 and "at" in kill and "back" in kill, kill
    failed = {i: r for i, r in results.items() if not r[0]}
    # Nothing hung: every request ended, well within its timeout.
    slow = {i: r for i, r in results.items() if r[3] - r[2] >= REQUEST_TIMEOUT_S}
    assert not slow, (slow, kill)
    assert not [r for r in failed.values() if str(r[1]).startswith("timeout")], failed
    # Only requests in flight while the replica died (from SIGKILL until its process was
    # reaped and its sockets closed) failed, and cleanly (HAProxy's 502/503/504 or a closed
    # connection): at most one per client.
    for i, (ok, detail, start, end) in failed.items():
        assert start <= kill["dead"] + 0.05 and end >= kill["at"], (i, detail, start, end, kill)
        assert (isinstance(detail, tuple) and detail[0] in (502, 503, 504)) or \
            str(detail).startswith("connection"), (i, detail)
    assert len(failed) <= CLIENTS, failed
    # The jobs submitted in the mix all ran, including any the killed replica had taken.
    job_ids = [r[1] for i, r in results.items() if i % 10 == 5 and r[0]]
    assert len(job_ids) >= 200 - len(failed)

    def all_done():
        states = [requests.get(f"{cluster.url}/jobs/{j}", timeout=10).json()["state"]
                  for j in job_ids]
        return all(s == "done" for s in states)
    assert wait_for(all_done, 60, step=1)


def batch_state(cluster, batch_id):
    return requests.get(f"{cluster.url}/jobs/{batch_id}", timeout=10).json()


def test_500_jobs_with_a_replica_killed_mid_batch_each_done_once_callbacks_signed(cluster):
    bodies = [{"code": f"print({i})"} for i in range(500)]
    r = requests.post(cluster.url + "/jobs",
                      json={"batch": bodies, "callback_url": cluster.receiver.url}, timeout=30)
    assert r.status_code == 202, r.text
    batch_id, ids = r.json()["job_id"], r.json()["job_ids"]
    assert wait_for(lambda: batch_state(cluster, batch_id)["counts"]["done"] >= 100, 120)
    # Kill a replica while it holds a job (its /health counts the job's run).
    victim = wait_for(lambda: next(
        (x for x in cluster.replicas if x.proc.poll() is None and
         requests.get(x.url + "/health", timeout=5).json()["runs"]["running"] > 0), None), 30,
        step=0.01)
    assert victim, "no replica was running a job"
    victim.kill()
    time.sleep(1)
    victim.start(attempts=10)
    final = wait_for(lambda: (lambda s: s if s["state"] in ("done", "failed") else None)(
        batch_state(cluster, batch_id)), 180, step=0.5)
    assert final and final["state"] == "done", final
    assert final["counts"] == {"queued": 0, "running": 0, "done": 500, "failed": 0}
    assert [x["stdout"] for x in final["results"]] == [f"{i}\n" for i in range(500)]
    attempts = [j["attempts"] for j in final["jobs"]]
    assert set(attempts) <= {1, 2} and 2 in attempts, attempts  # the killed replica's job ran again
    rows = cluster.pg.psql("scaleout", f"SELECT state, count(*) FROM jobs WHERE batch_id = "
                                       f"'{batch_id}' GROUP BY state")
    assert rows.strip() == "done|500", rows
    # Every job's callback arrived, signed with the secret, carrying its one result.
    rx = cluster.receiver
    assert wait_for(lambda: all(rx.tries(j) > 0 for j in ids), 60), \
        [j for j in ids if rx.tries(j) == 0][:5]
    assert rx.all_signed(SECRET)
    by_job = {}
    for body in rx.bodies():
        if body.get("batch_id") == batch_id:
            by_job.setdefault(body["job_id"], []).append(body)
    assert set(by_job) == set(ids)
    for job_id, posts in by_job.items():
        index = posts[0]["batch_index"]
        assert all(p["state"] == "done" and p["results"][0]["stdout"] == f"{index}\n"
                   for p in posts), posts


def test_sigterm_drains_a_replica_it_finishes_its_run_and_exits_in_its_grace(cluster):
    replica = cluster.replicas[2]
    assert replica.proc.poll() is None
    out = {}
    slow = threading.Thread(target=lambda: out.update(r=requests.post(
        replica.url + "/execute", json={"code": "import time; time.sleep(3); print('ok')"},
        timeout=30)))
    slow.start()
    assert wait_for(lambda: requests.get(replica.url + "/health", timeout=5)
                    .json()["runs"]["running"] > 0, 10, step=0.02)
    sent = time.monotonic()
    replica.proc.send_signal(signal.SIGTERM)
    health = wait_for(lambda: (lambda h: h if h["draining"] else None)(
        requests.get(replica.url + "/health", timeout=5).json()), 2, step=0.02)
    assert health and health["status"] == "degraded" and "shutting down" in health["reasons"]
    late = requests.post(replica.url + "/execute", json={"code": "print(1)"}, timeout=10)
    assert late.status_code == 503
    # Through HAProxy the service goes on: the draining replica's 503s are retried elsewhere
    # and it leaves the rotation.
    through = [requests.post(cluster.url + "/execute", json={"code": "print(2)"}, timeout=30)
               for _ in range(20)]
    assert [x.status_code for x in through] == [200] * 20
    slow.join()
    assert out["r"].status_code == 200 and out["r"].json()["stdout"] == "ok\n"
    assert replica.proc.wait(timeout=15) == 0
    assert time.monotonic() - sent < 10 + 2  # SHUTDOWN_GRACE, and a little to exit
