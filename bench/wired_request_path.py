#!/usr/bin/python3
"""Issue 16's targets on the real server: print("hi") p50 with AUTH_MODE=api_key + HISTORY=metadata
(SQLite, then PostgreSQL 15 started here) against AUTH_MODE=none + HISTORY=off, all servers up
at once and measured in interleaved rounds (same run, same machine load); and fairness: key A
sending 16 requests at a time (its concurrency limit 4), key B one at a time, B's p50 against
B alone. Run as root. Usage: bench/wired_request_path.py [--bin build/pysandbox] [--rounds 10]"""
import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "support"))
from postgres import PostgresCluster  # noqa: E402

LISTENING = re.compile(r"\bevent=listening\b.*\bport=(\d+)")
BODY = json.dumps({"code": 'print("hi")'})


class Server:
    def __init__(self, binary, env, name):
        self.dir = tempfile.TemporaryDirectory(prefix="pysbx-bench-")
        self.env = dict(os.environ, HOST="127.0.0.1", LOG_LEVEL="INFO",
                        CGROUP_PREFIX="bench-" + name, STATE_DIR=self.dir.name + "/state", **env)
        self.binary = binary
        self.key = {}
        self.proc = subprocess.Popen([binary, "serve", "--port", "0"],
                                     cwd=self.dir.name, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        for line in self.proc.stderr:
            m = LISTENING.search(line)
            if m:
                self.port = int(m.group(1))
                break
        else:
            raise RuntimeError(name + " did not start")
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)

    def make_key(self, *flags):
        r = subprocess.run([self.binary, "keys", "create", "--name", "bench", "--json", *flags],
                           env=self.env, cwd=self.dir.name, capture_output=True, text=True,
                           check=True)
        return {"X-API-Key": json.loads(r.stdout)["key"], "Content-Type": "application/json"}

    def request(self, method, path, body=None, headers=None, conn=None):
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, data

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.dir.cleanup()


def p50(values):
    v = sorted(values)
    return v[len(v) // 2]


def timed_runs(server, headers, n, conn):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        status, _ = server.request("POST", "/execute", BODY, headers, conn)
        out.append(time.perf_counter() - t)
        assert status == 200, status
    return out


def overhead(binary, rounds, per_round, pg):
    headers = {"Content-Type": "application/json"}
    servers = {"none+off": Server(binary, {"AUTH_MODE": "none", "HISTORY": "off"}, "a"),
               "api_key+metadata sqlite": Server(binary, {"AUTH_MODE": "api_key"}, "b"),
               "api_key+metadata postgresql":
                   Server(binary, {"AUTH_MODE": "api_key",
                                   "DATABASE_URL": pg.create_database("bench")}, "c")}
    try:
        hdrs = {name: (headers if name == "none+off" else
                       s.make_key("--rate", "0", "--concurrency", "0", "--cpu-per-day", "0"))
                for name, s in servers.items()}
        conns = {name: http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
                 for name, s in servers.items()}
        samples = {name: [] for name in servers}
        for name, s in servers.items():
            timed_runs(s, hdrs[name], 20, conns[name])  # warm-up
        for _ in range(rounds):
            for name, s in servers.items():
                samples[name] += timed_runs(s, hdrs[name], per_round, conns[name])
        return {name: p50(v) * 1000 for name, v in samples.items()}
    finally:
        for s in servers.values():
            s.stop()


def fairness(binary, n, slots):
    s = Server(binary, {"AUTH_MODE": "api_key", "MAX_CONCURRENT_RUNS": str(slots)}, "f")
    try:
        a = s.make_key("--rate", "0", "--concurrency", "4", "--cpu-per-day", "0")
        b = s.make_key("--rate", "0", "--concurrency", "0", "--cpu-per-day", "0")
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
        timed_runs(s, b, 20, conn)
        alone = p50(timed_runs(s, b, n, conn))
        stop = threading.Event()
        counts = {"ok": 0, "429": 0}
        lock = threading.Lock()

        def flood():
            c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
            while not stop.is_set():
                status, _ = s.request("POST", "/execute", BODY, a, c)
                with lock:
                    counts["ok" if status == 200 else "429"] += 1
                if status == 429:  # as a client that honours Retry-After (1 s)
                    stop.wait(1)

        threads = [threading.Thread(target=flood) for _ in range(16)]
        for t in threads:
            t.start()
        time.sleep(1)
        loaded = p50(timed_runs(s, b, n, conn))
        stop.set()
        for t in threads:
            t.join()
        return alone * 1000, loaded * 1000, counts
    finally:
        s.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "build", "pysandbox"))
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--per-round", type=int, default=50)
    ap.add_argument("--slots", type=int, nargs="+", default=[4, 8],
                    help="MAX_CONCURRENT_RUNS of the fairness runs (4: A's limit fills them)")
    ap.add_argument("--fairness-only", action="store_true")
    args = ap.parse_args()
    if not args.fairness_only:
        with PostgresCluster() as pg:
            p = overhead(args.bin, args.rounds, args.per_round, pg)
        base = p["none+off"]
        print("print(\"hi\") p50, %d x %d requests each, interleaved:"
              % (args.rounds, args.per_round))
        for name, v in p.items():
            print("  %-30s %7.3f ms  (%+.3f ms)" % (name, v, v - base))
    for slots in args.slots:
        alone, loaded, counts = fairness(args.bin, 200, slots)
        print("fairness, MAX_CONCURRENT_RUNS=%d: B alone p50 %.3f ms; B while A sends 16 at a time"
              " (limit 4) p50 %.3f ms = %.2fx; A: %d ok, %d refused (429)"
              % (slots, alone, loaded, loaded / alone, counts["ok"], counts["429"]))


if __name__ == "__main__":
    main()
