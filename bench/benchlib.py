"""Shared code of bench/run_bench and bench/load (stdlib only, /usr/bin/python3).

Servers (ours and the bwrap baseline), wrk driving with bench/post.lua, process-tree memory
sampling from /proc, payloads, host facts, table formatting.
"""
import base64
import glob
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
POST_LUA = os.path.join(BENCH_DIR, "post.lua")
BASELINE = os.path.join(BENCH_DIR, "baseline_server.py")
RESULTS = os.path.join(BENCH_DIR, "results")
PY = "/usr/bin/python3"

# Flags our server gets unless the caller passes its own after `--`: the seccomp layer is not
# finished yet and the server refuses to start without every layer otherwise. The report prints
# /health's layers, so a degraded server is visible in every table.
DEFAULT_SERVER_ARGS = ["--allow-degraded", "true"]


def default_binary():
    for b in ("build-bench", "build"):
        p = os.path.join(ROOT, b, "pysandbox")
        if os.access(p, os.X_OK):
            return p
    return os.path.join(ROOT, "build-bench", "pysandbox")


BUILD_HINT = ("cd %s && ./scripts/setup.sh && cmake -S . -B build-bench -G Ninja "
              "-DCMAKE_BUILD_TYPE=Release && cmake --build build-bench -j2 --target pysandbox" % ROOT)


# --------------------------------------------------------------------------- payloads

def _files_in(n=5, size=4096):
    out = {}
    for i in range(n):
        line = f"file {i}: the quick brown fox jumps over the lazy dog 0123456789\n"
        data = (line * (size // len(line) + 1))[:size].encode()
        out[f"in{i}.txt"] = base64.b64encode(data).decode("ascii")
    return out


FILES_CODE = (
    "for i in range(5):\n"
    "    with open(f'in{i}.txt', 'rb') as f:\n"
    "        data = f.read()\n"
    "    with open(f'out{i}.txt', 'wb') as f:\n"
    "        f.write(data.upper())\n"
    "print('done')\n")

# The egress payloads' code (issue 6): print plus the run's last network interface.
NET_PRINT = 'import socket; print("hi", socket.if_nameindex()[-1][1])'

# key -> (label, request body, substrings every good response must contain)
PAYLOADS = {
    # bench/run_bench (issue 5)
    "print": ("print(\"hi\")", {"code": 'print("hi")'}, ['"stdout":"hi\\n"']),
    "pandas": ("pandas DataFrame sum",
               {"code": 'import pandas as pd; print(pd.DataFrame({"a":[1,2]}).sum())'},
               ["a    3"]),
    "mpl": ("matplotlib PNG",
            {"code": 'import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt; '
                     'plt.plot([1,2,3]); plt.savefig("p.png")'},
            ['"p.png":"iVBORw0KGgo']),  # base64 of the PNG signature
    "files": ("5 files in, 5 out (4 KiB each)", {"code": FILES_CODE, "files": _files_in()},
              ['"out0.txt"', '"out1.txt"', '"out2.txt"', '"out3.txt"', '"out4.txt"']),
    # bench/load (issue 7) adds these
    "sleep": ("sleep 100 ms", {"code": "import time; time.sleep(0.1); print('up')"},
              ['"stdout":"up\\n"']),
    "pandas-import": ("import pandas", {"code": "import pandas; print(pandas.__version__)"}, []),
    "out1m": ("1 MiB stdout", {"code": "import sys; sys.stdout.write('x' * 1048576)"},
              ['"stdout_truncated":false']),
    # issue 6 (egress): print plus the run's last interface (tap0 proves the link is up; lo
    # without network), with the per-request network flag; see run_bench --egress
    "print-net": ("print(\"hi\"), network true", {"code": NET_PRINT, "network": True},
                  ['"stdout":"hi tap0\\n"']),
}

for _k in ("print", "pandas", "mpl", "files", "sleep", "pandas-import", "out1m", "print-net"):
    PAYLOADS[_k][1].setdefault("timeout", 60)


def payload_file(key, tmpdir):
    path = os.path.join(tmpdir, f"body-{key}.json")
    if not os.path.exists(path):
        with open(path, "w") as f:
            json.dump(PAYLOADS[key][1], f)
    return path


# --------------------------------------------------------------------------- HTTP helpers

def post(port, body, timeout=120):
    """One POST /execute on a fresh connection: (status, seconds, parsed body or raw bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t = time.perf_counter()
    try:
        c.request("POST", "/execute", json.dumps(body), {"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        dt = time.perf_counter() - t
    finally:
        c.close()
    try:
        return r.status, dt, json.loads(data)
    except ValueError:
        return r.status, dt, data


def get_json(port, path, timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return json.loads(r.read())
    finally:
        c.close()


def paced(port, key, n, gap):
    """n requests of payload `key`, one at a time on one keep-alive connection, `gap` seconds
    apart: what a single interactive user sees (the server is idle between requests, as behind
    an editor). Returns (sorted latencies in µs, number of bad responses, first bad)."""
    body = json.dumps(PAYLOADS[key][1])
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    lat, bad, first = [], 0, None
    try:
        for _ in range(n):
            time.sleep(gap)
            t = time.perf_counter()
            c.request("POST", "/execute", body, {"Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            lat.append((time.perf_counter() - t) * 1e6)
            try:
                err = check_response(key, r.status, json.loads(data))
            except ValueError:
                err = "not JSON"
            if err:
                bad += 1
                first = first or err
    finally:
        c.close()
    return sorted(lat), bad, first


def percentile(sorted_values, q):
    """The q-quantile (0..1) of sorted values, nearest rank."""
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def check_response(key, status, obj):
    """None if the response is a good answer for the payload, else a short reason."""
    if status != 200:
        return f"HTTP {status}: {str(obj)[:300]}"
    if not isinstance(obj, dict) or obj.get("success") is not True:
        if isinstance(obj, dict):
            return (f"success={obj.get('success')} status={obj.get('status')} "
                    f"error={obj.get('error')!r} stderr={str(obj.get('stderr'))[-300:]!r}")
        return f"not JSON: {obj[:200]!r}"
    raw = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for s in PAYLOADS[key][2]:
        if s not in raw:
            return f"expected {s!r} missing in {raw[:300]!r}"
    return None


# --------------------------------------------------------------------------- /proc

def _stat(pid):
    """(ppid, comm) of a pid, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            s = f.read().decode("ascii", "replace")
    except OSError:
        return None
    r = s.rindex(")")
    comm = s[s.index("(") + 1:r]
    return int(s[r + 2:].split()[1]), comm


def descendants(root):
    """{pid: depth} of every live descendant of root (depth 1 = child), from /proc/*/stat."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = _stat(int(d))
            if st:
                children.setdefault(st[0], []).append(int(d))
    out, frontier, depth = {}, [root], 0
    while frontier:
        depth += 1
        nxt = []
        for p in frontier:
            for c in children.get(p, ()):
                if c not in out:
                    out[c] = depth
                    nxt.append(c)
        frontier = nxt
    return out


def mem(pid, detail=False):
    """{'rss': kB VmRSS[, 'pss': kB, 'uss': kB (Private_Clean + Private_Dirty)]} or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
        out = {"rss": int(m.group(1)) if m else 0}
        if detail:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                s = f.read()
            def field(name):
                mm = re.search(rf"^{name}:\s+(\d+) kB", s, re.M)
                return int(mm.group(1)) if mm else 0
            out["pss"] = field("Pss")
            out["uss"] = field("Private_Clean") + field("Private_Dirty")
        return out
    except (OSError, AttributeError):
        return None


def tree_memory(root, kind):
    """One memory sample of a server's process tree, in kB.

    ours: server = the root process; spawner = depth 1 (forked by main, the only cloner);
          zygotes = depth 2 (children of the spawner; in cold mode the per-run interpreters);
          runs = depth >= 3 (a run's first process G, forked by the zygote, and its processes).
    baseline: server = the Python HTTP front; runs = every descendant (bwrap, python).
    """
    s = {"server_rss": 0, "spawner_rss": 0, "zyg_n": 0, "zyg_rss": 0, "zyg_pss": 0,
         "run_n": 0, "run_procs": 0, "run_rss": 0, "run_uss": 0}
    m = mem(root)
    if m is None:
        return None
    s["server_rss"] = m["rss"]
    run_depth = 3 if kind == "ours" else 1  # a run's first process: G / bwrap
    for pid, depth in descendants(root).items():
        m = mem(pid, detail=(depth >= 2 if kind == "ours" else True))
        if m is None or m["rss"] == 0:
            continue  # gone, or a zombie (note: a run's processes in the sample may be mid-exit)
        if kind == "ours" and depth == 1:
            s["spawner_rss"] += m["rss"]
        elif kind == "ours" and depth == 2:
            s["zyg_n"] += 1
            s["zyg_rss"] += m["rss"]
            s["zyg_pss"] += m.get("pss", 0)
        else:
            s["run_n"] += depth == run_depth
            s["run_procs"] += 1
            s["run_rss"] += m["rss"]
            s["run_uss"] += m.get("uss", 0)
    return s


class MemSampler:
    """Samples tree_memory() every `interval` s in a thread; keeps the peak of every field and
    the mean private memory (USS, summed over a run's processes) per run over the samples that
    saw runs."""

    def __init__(self, root, kind, interval=0.5):
        self.root, self.kind, self.interval = root, kind, interval
        self.peak = {}
        self.uss_per_run = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.is_set():
            s = tree_memory(self.root, self.kind)
            if s:
                for k, v in s.items():
                    self.peak[k] = max(self.peak.get(k, 0), v)
                if s["run_n"]:
                    self.uss_per_run.append(s["run_uss"] / s["run_n"])
            self._stop.wait(self.interval)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()

    def result(self):
        r = dict(self.peak)
        r["uss_per_run"] = (sum(self.uss_per_run) / len(self.uss_per_run)) if self.uss_per_run else None
        return r


def pid_listening_on(port):
    """Pid of the process holding a LISTEN socket on 127.0.0.1/0.0.0.0:port (for --url)."""
    inodes = set()
    for tab in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(tab) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if int(parts[1].split(":")[1], 16) == port and parts[3] == "0A":
                        inodes.add(parts[9])
        except OSError:
            pass
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{d}/fd"):
                try:
                    link = os.readlink(f"/proc/{d}/fd/{fd}")
                except OSError:
                    continue
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(d)
        except OSError:
            continue
    return None


# --------------------------------------------------------------------------- servers

class Server:
    """A server process we started: ours (`pysandbox serve`) or the baseline."""

    def __init__(self, name, kind, cmd, log_path, run_mode=None):
        self.name, self.kind, self.cmd, self.log_path, self.run_mode = name, kind, cmd, log_path, run_mode
        self.proc = None
        self.port = None

    def start(self, timeout=60):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=tempfile.gettempdir())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: exited with {self.proc.returncode} at start-up; "
                                   f"log {self.log_path}:\n{self.log_tail()}")
            m = re.search(r"event=listening host=\S+ port=(\d+)", self.log_text())
            if m:
                self.port = int(m.group(1))
                return self
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: no 'event=listening' within {timeout}s; log:\n{self.log_tail()}")

    @property
    def pid(self):
        return self.proc.pid

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=15):
        return "\n".join(self.log_text().splitlines()[-n:])

    def wait_zygotes(self, timeout=60):
        """Zygote mode: wait until the log says the full (pre-imported) zygote is ready."""
        if self.kind != "ours" or self.run_mode != "zygote":
            return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(r'event="zygote ready" kind=full', self.log_text()):
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    def health(self):
        try:
            return get_json(self.port, "/health")
        except (OSError, ValueError):
            return None

    def quiesce(self, timeout=90):
        """Wait until no run is in flight (wrk drops in-flight requests at its deadline, and the
        baseline goes on running those to completion): /health runs for ours, no child
        processes for the baseline. Returns the seconds waited."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.kind == "baseline":
                if not descendants(self.pid):
                    break
            else:
                h = self.health() or {}
                runs = h.get("runs") or {}
                if runs.get("running", 0) == 0 and runs.get("queued", 0) == 0:
                    break
            time.sleep(0.1)
        return time.monotonic() - t0

    def stop(self, grace=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()
        return self.proc.returncode if self.proc else None


def our_server(name, binary, run_mode, server_args, log_dir):
    cmd = [binary, "serve", "--port", "0", "--run-mode", run_mode] + list(server_args)
    # Each server gets its own CGROUP_PREFIX: servers sharing one (ours side by side, or a
    # colleague's test server) collide on run cgroup names (cgroup_create EEXIST) and a
    # starting server removes the run cgroups it finds under its prefix as leftovers.
    if not any(a == "--cgroup-prefix" or a.startswith("--cgroup-prefix=") for a in server_args):
        cmd += ["--cgroup-prefix", f"pysandbox-bench-{os.getpid()}-{name}"]
    return Server(name, "ours", cmd, os.path.join(log_dir, f"server-{name}.log"), run_mode)


def remove_bench_cgroups():
    """rmdir the (empty) cgroup dirs of the prefixes our_server() gave this process's servers;
    the server leaves its prefix dir behind on exit. Never touches anything else."""
    removed = 0
    try:
        with open("/proc/self/cgroup") as f:
            own = [line.rstrip("\n").split(":", 2)[2] for line in f if line.count(":") >= 2]
    except OSError:
        return 0
    dirs = set()
    for path in set(own):
        for root in glob.glob("/sys/fs/cgroup") + glob.glob("/sys/fs/cgroup/*/"):
            for d in glob.glob(os.path.join(root, path.lstrip("/"), f"pysandbox-bench-{os.getpid()}-*")):
                dirs.add(os.path.realpath(d))
    for d in sorted(dirs, key=len, reverse=True):
        for sub in sorted(glob.glob(os.path.join(d, "*/")), key=len, reverse=True):
            try:
                os.rmdir(sub)
            except OSError:
                pass
        try:
            os.rmdir(d)
            removed += 1
        except OSError:
            pass
    return removed


def baseline_server(log_dir):
    cmd = [PY, BASELINE, "--port", "0"]
    return Server("baseline", "baseline", cmd, os.path.join(log_dir, "server-baseline.log"))


# --------------------------------------------------------------------------- wrk

def run_wrk(port, body_file, expect, concurrency, duration, timeout, raw_path=None, cores=None):
    """Drive POST /execute with wrk for `duration` s at `concurrency` keep-alive connections.
    Returns the BENCHRESULT fields (ints/floats) plus 'first_bad' and 'raw'."""
    threads = max(1, min(concurrency, cores or os.cpu_count() or 1))
    cmd = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(duration))}s", "--latency",
           f"--timeout", f"{int(timeout)}s", "-s", POST_LUA,
           f"http://127.0.0.1:{port}/execute", "--", body_file] + list(expect)
    p = subprocess.run(cmd, capture_output=True, text=True)
    raw = " ".join(cmd) + "\n" + p.stdout + p.stderr
    if raw_path:
        with open(raw_path, "w") as f:
            f.write(raw)
    m = re.search(r"^BENCHRESULT (.*)$", p.stdout, re.M)
    if not m:
        raise RuntimeError(f"wrk gave no result (rc {p.returncode}):\n{raw[-2000:]}")
    r = {}
    for kv in m.group(1).split():
        k, v = kv.split("=", 1)
        r[k] = float(v) if "." in v else int(v)
    b = re.search(r"^BENCHFIRSTBAD (.*)$", p.stdout, re.M)
    r["first_bad"] = b.group(1) if b else ""
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0.0
    r["sock_errors"] = r["sock_connect"] + r["sock_read"] + r["sock_write"] + r["sock_timeout"]
    r["errors"] = r["failed"] + r["unexpected"] + r["s429"] + r["non200"] + r["sock_errors"]
    r["raw"] = raw
    return r


def check_tools():
    missing = [t for t in ("wrk", "bwrap") if not shutil.which(t)]
    if missing:
        sys.exit(f"missing: {' '.join(missing)} (apt-get install {' '.join(missing)}, "
                 f"or ./scripts/setup.sh)")


# --------------------------------------------------------------------------- host facts

def host_facts():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            cpu = m.group(1).strip() if m else "?"
    except OSError:
        pass
    def sh(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:
            return "?"
    dirty = sh("git", "status", "--porcelain", "--untracked-files=no")
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "kernel": platform.release(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "loadavg": open("/proc/loadavg").read().split()[:3],
        "python": sh(PY, "-c", "import sys; print(sys.version.split()[0])"),
        "commit": sh("git", "rev-parse", "--short", "HEAD") + (" (+ uncommitted changes)" if dirty else ""),
        "wrk": sh("sh", "-c", "wrk --version 2>&1 | head -1").split(" Copyright")[0],
        "bwrap": sh("bwrap", "--version"),
    }


def fmt_ms(us):
    if us is None:
        return "—"
    ms = us / 1000.0
    return f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}"


def fmt_mb(kb):
    return "—" if kb is None else f"{kb / 1024:.1f}"


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def errors_cell(r):
    """'0', or the breakdown of what went wrong."""
    if not r["errors"]:
        return "0"
    parts = []
    for k, label in (("non200", "non-200"), ("s429", "429/503"), ("failed", "success:false"),
                     ("unexpected", "wrong output"), ("sock_errors", "socket")):
        if r.get(k):
            parts.append(f"{r[k]} {label}")
    return ", ".join(parts)


def log_error_summary(text):
    """Counts of the server log's level=error lines, by failure step and errno (runs cancelled
    because the client went away — wrk closes its connections at the end of a cell — apart),
    and of Python tracebacks (zygotes write their own diagnostics to the server's stderr)."""
    counts = {}
    for line in text.splitlines():
        if line.startswith("Traceback (most recent call last)"):
            key = "Python traceback on the server's stderr (a zygote's)"
            counts[key] = counts.get(key, 0) + 1
            continue
        if "level=error" not in line:
            continue
        m = re.search(r'failure="([^"]*)"', line)
        if m:
            f = m.group(1)
            key = "cancelled (client closed)" if "ECANCELED" in f else re.sub(r"\s*\[.*$", "", f)
        else:
            m = re.search(r"event=(\"[^\"]*\"|\S+)", line)
            key = m.group(1) if m else line[:80]
        counts[key] = counts.get(key, 0) + 1
    return counts
