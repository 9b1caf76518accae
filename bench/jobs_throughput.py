#!/usr/bin/python3
"""Async jobs against /execute on the same server, in the same run (A/B): runs per second,
CPU per run of the server's whole process tree, and memory per run in flight.

    bench/jobs_throughput.py [--runs 300] [--concurrency 4] [--binary build/pysandbox]

A: `--runs` POST /execute of `print(1)` from `--concurrency` clients. B: one POST /jobs batch of
`--runs` of the same body, JOBS_WORKERS = `--concurrency`, timed from the POST until GET
/jobs/{batch} says done. CPU: utime + stime of the server and its live descendants plus what
they reaped (cutime + cstime: the runs), per run. Memory: the runs' RSS sampled during A,
divided by the runs in flight in each sample (their largest value; RSS counts the pages shared
with the zygote, USS only the run's own), and the zygotes' RSS.
The store is SQLite in a temp dir (jobs on PostgreSQL: the scale-out test's numbers).
"""
import argparse
import concurrent.futures
import json
import os
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402


def tree_cpu(root):
    total = 0
    for pid in [root, *bl.descendants(root)]:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def call(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, json.loads(r.read())


def run_execute(server, runs, concurrency, samples):
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            s = bl.tree_memory(server.pid, "ours")
            if s and s["run_n"]:
                samples.append(s)
            time.sleep(0.05)
    t = threading.Thread(target=sample)
    t.start()
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        codes = list(pool.map(lambda _: call(server.port, "POST", "/execute",
                                             {"code": "print(1)"})[0], range(runs)))
    elapsed = time.monotonic() - t0
    stop.set()
    t.join()
    assert codes == [200] * runs, set(codes)
    return elapsed


def run_jobs(server, runs):
    t0 = time.monotonic()
    status, body = call(server.port, "POST", "/jobs", {"batch": [{"code": "print(1)"}] * runs})
    assert status == 202, body
    while True:
        _, state = call(server.port, "GET", f"/jobs/{body['job_id']}")
        if state["state"] in ("done", "failed"):
            break
        time.sleep(0.02)
    assert state["state"] == "done", state["counts"]
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--binary", default=bl.default_binary())
    a = ap.parse_args()
    logs = tempfile.mkdtemp(prefix="sbx-bench-jobs-")
    server = bl.our_server("jobs", a.binary, "zygote", [
        "--max-concurrent-runs", str(a.concurrency), "--jobs-workers", str(a.concurrency),
        "--state-dir", logs + "/state", "--jobs-poll-ms", "50"], logs)
    server.start()
    try:
        server.wait_zygotes()
        call(server.port, "POST", "/execute", {"code": "print(1)"})  # warm-up
        samples = []
        cpu0 = tree_cpu(server.pid)
        a_s = run_execute(server, a.runs, a.concurrency, samples)
        cpu1 = tree_cpu(server.pid)
        server.quiesce()
        cpu2 = tree_cpu(server.pid)
        b_s = run_jobs(server, a.runs)
        cpu3 = tree_cpu(server.pid)
        per_run_kb = max((s["run_rss"] / s["run_n"] for s in samples), default=0)
        per_run_uss_kb = max((s["run_uss"] / s["run_n"] for s in samples), default=0)
        zyg = bl.tree_memory(server.pid, "ours")
        print(f"host: {os.cpu_count()} cores; {a.runs} runs of print(1), concurrency {a.concurrency}")
        print("| path | runs/s | CPU ms per run (server tree) |")
        print("|---|---|---|")
        print(f"| A: POST /execute | {a.runs / a_s:.1f} | {(cpu1 - cpu0) * 1000 / a.runs:.1f} |")
        print(f"| B: POST /jobs batch | {a.runs / b_s:.1f} | {(cpu3 - cpu2) * 1000 / a.runs:.1f} |")
        print(f"ratio B/A runs/s: {(a.runs / b_s) / (a.runs / a_s):.2f}")
        print(f"memory: run RSS per run in flight (max over {len(samples)} samples) "
              f"{per_run_kb / 1024:.1f} MB (private: USS {per_run_uss_kb / 1024:.1f} MB); zygotes {zyg['zyg_n']} x "
              f"{zyg['zyg_rss'] / max(1, zyg['zyg_n']) / 1024:.1f} MB RSS "
              f"(PSS {zyg['zyg_pss'] / 1024:.1f} MB total); server {zyg['server_rss'] / 1024:.1f} MB")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
