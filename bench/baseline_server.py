#!/usr/bin/python3
"""Baseline for bench/run_bench: the original design rebuilt without Docker, the way a Python
developer would do it: a stdlib ThreadingHTTPServer that, per POST /execute, writes main.py and
the input files into a fresh temp dir, runs `bwrap ... /usr/bin/python3 main.py` on it (cold
interpreter, nothing pre-imported), and returns stdout/stderr and the new or changed files.

Same API shape as our server (POST /execute {"code","timeout","files"} -> {"success","stdout",
"stderr","execution_time","files","error","status"}), HTTP/1.1 keep-alive. No admission
control: every request runs at once (as the original did).

    /usr/bin/python3 bench/baseline_server.py [--host 127.0.0.1] [--port 0] [--python /usr/bin/python3]

Logs `event=listening host=H port=N` on stderr once it accepts connections (like pysandbox).
Stdlib only; must run as a user that may use bwrap (root, or unprivileged user namespaces).
"""
import argparse
import base64
import binascii
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None


def bwrap_command(workdir, python):
    cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
           "--ro-bind", "/usr", "/usr"]
    # Debian 12 is merged-/usr: /bin, /sbin and /lib* are symlinks into /usr; recreate them.
    for path in sorted(glob.glob("/lib*")) + ["/bin", "/sbin"]:
        if os.path.islink(path):
            cmd += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            cmd += ["--ro-bind", path, path]
    cmd += ["--ro-bind", "/etc", "/etc",
            "--bind", workdir, "/work", "--chdir", "/work",
            "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev",
            "--clearenv", "--setenv", "HOME", "/tmp", "--setenv", "PATH", "/usr/bin:/bin",
            "--setenv", "LANG", "C.UTF-8",
            python, "main.py"]
    return cmd


def snapshot(root):
    out = {}
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            out[os.path.relpath(p, root)] = (st.st_size, st.st_mtime_ns)
    return out


def execute(req):
    code = req.get("code")
    if not isinstance(code, str) or not code.strip():
        return 400, {"detail": "代码不能为空"}  # the original service's text
    timeout = req.get("timeout") or 30
    files = req.get("files") or {}
    workdir = tempfile.mkdtemp(prefix="bench-baseline-")
    try:
        with open(os.path.join(workdir, "main.py"), "w", encoding="utf-8") as f:
            f.write(code)
        for name, content in files.items():
            norm = os.path.normpath(name)
            if os.path.isabs(norm) or norm.startswith("..") or norm == "main.py":
                return 400, {"detail": f"Invalid file name '{name}'"}
            try:
                data = base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError):
                return 400, {"detail": f"Invalid base64 content for file '{name}'"}
            path = os.path.join(workdir, norm)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        before = snapshot(workdir)
        t0 = time.monotonic()
        try:
            p = subprocess.run(bwrap_command(workdir, ARGS.python), stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=timeout)
            elapsed = time.monotonic() - t0
            stdout, stderr, rc = p.stdout, p.stderr, p.returncode
            error = None if rc == 0 else "Code execution failed"
            status = "ok" if rc == 0 else "error"
        except subprocess.TimeoutExpired as e:
            elapsed = time.monotonic() - t0
            stdout, stderr, rc = e.stdout or b"", e.stderr or b"", None
            error, status = f"代码执行超时（{timeout}秒）", "timeout"
        out_files = {}
        for rel, sig in snapshot(workdir).items():
            if rel == "main.py" or before.get(rel) == sig:
                continue
            path = os.path.join(workdir, rel)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as f:
                    out_files[rel] = base64.b64encode(f.read()).decode("ascii")
        return 200, {"success": rc == 0,
                     "stdout": stdout.decode("utf-8", "replace"),
                     "stderr": stderr.decode("utf-8", "replace"),
                     "execution_time": round(elapsed, 6),
                     "files": out_files, "error": error, "status": status}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def log_message(self, *args):
        pass

    def _send(self, status, obj):
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/health":
            self._send(200, {"status": "healthy", "run_mode": "baseline"})
        else:
            self._send(404, {"detail": "Not Found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path != "/execute":
            self._send(404, {"detail": "Not Found"})
            return
        try:
            req = json.loads(raw)
            if not isinstance(req, dict):
                raise ValueError
        except ValueError:
            self._send(422, {"detail": "body must be a JSON object"})
            return
        try:
            status, obj = execute(req)
        except Exception as e:  # noqa: BLE001 - a bench baseline: answer, never hang
            status, obj = 500, {"detail": f"baseline error: {e!r}"}
        try:
            self._send(status, obj)
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--python", default="/usr/bin/python3")
    ARGS = ap.parse_args()
    if not shutil.which("bwrap"):
        sys.exit("baseline_server: bwrap not found (apt-get install bubblewrap)")
    srv = Server((ARGS.host, ARGS.port), Handler)
    host, port = srv.server_address[:2]
    # SIGTERM: exit 0 (runs in flight die with us: bwrap --die-with-parent).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"event=listening host={host} port={port}", file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
