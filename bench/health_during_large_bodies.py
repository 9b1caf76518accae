#!/usr/bin/python3
"""/health latency while large /execute bodies are parsed: starts `pysandbox serve`
(HTTP_THREADS=2) on a free loopback port, sends CLIENTS concurrent /execute requests of ~63 MB
each (5 files of 9 MiB, base64), ROUNDS times, and probes /health every 10 ms meanwhile.
Prints the probes' p50 / p99 / max in ms.

    /usr/bin/python3 bench/health_during_large_bodies.py [path/to/pysandbox] [--clients 4] [--rounds 3]
"""
import argparse
import base64
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))


def start(binary):
    env = dict(os.environ, HOST="127.0.0.1", HTTP_THREADS="2", LOG_LEVEL="INFO")
    proc = subprocess.Popen([binary, "serve", "--port", "0"], env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for line in proc.stderr:
        m = re.search(r"\bevent=listening\b.*\bport=(\d+)", line)
        if m:
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            return proc, f"http://127.0.0.1:{m.group(1)}"
    raise SystemExit("server did not start")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=os.path.join(HERE, "..", "build", "pysandbox"))
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    proc, url = start(args.binary)
    try:
        while requests.get(url + "/health", timeout=5).json()["runs"]["prepared"] == 0:
            time.sleep(0.2)
        content = base64.b64encode(os.urandom(9 << 20)).decode()
        body = {"code": "print(1)", "files": {f"f{i}.bin": content for i in range(5)}}
        payload = json.dumps(body).encode()
        print(f"body: {len(payload) / 1e6:.1f} MB x {args.clients} clients x {args.rounds} rounds",
              file=sys.stderr)
        probes, done = [], threading.Event()

        def probe():
            with requests.Session() as s:
                while not done.is_set():
                    t = time.perf_counter()
                    s.get(url + "/health", timeout=10)
                    probes.append((time.perf_counter() - t) * 1000)
                    time.sleep(0.01)

        def client():
            with requests.Session() as s:
                for _ in range(args.rounds):
                    r = s.post(url + "/execute", data=payload, timeout=120,
                               headers={"Content-Type": "application/json"})
                    assert r.status_code in (200, 429), (r.status_code, r.text[:200])

        prober = threading.Thread(target=probe)
        prober.start()
        clients = [threading.Thread(target=client) for _ in range(args.clients)]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        done.set()
        prober.join()
        probes.sort()
        p99 = probes[min(len(probes) - 1, int(len(probes) * 0.99))]
        print(f"/health during the load: n={len(probes)} p50={statistics.median(probes):.1f} ms "
              f"p99={p99:.1f} ms max={probes[-1]:.1f} ms")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
