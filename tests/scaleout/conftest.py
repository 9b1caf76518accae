"""Three pysandbox replicas on loopback, one PostgreSQL, one HAProxy, one callback receiver.

Each replica has its own CGROUP_PREFIX, SANDBOX_UID_BASE block and REPLICA_ID, a fixed port
(so that a killed replica comes back where HAProxy expects it) and small pools (the machine is
shared). HAProxy runs deploy/haproxy/haproxy.cfg as shipped, its addresses from the environment.
Anything that cannot start fails the test (no skips).
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
from callback_receiver import CallbackReceiver  # noqa: E402
from postgres import PostgresCluster, free_port  # noqa: E402

SECRET = "scaleout-webhook-secret-0123456789"
UID_BASE = 3_300_000  # + 10000 per replica: disjoint 5120-id blocks, away from other suites
LISTENING = re.compile(r"\bevent=listening\b")


class Replica:
    def __init__(self, index, port, database_url, allow):
        self.index = index
        self.name = f"r{index}"
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.cwd = tempfile.TemporaryDirectory(prefix=f"sbx-scaleout-{self.name}-")
        self.env = dict(os.environ)
        self.env.update({
            "HOST": "127.0.0.1", "PORT": str(port), "REPLICA_ID": self.name,
            "DATABASE_URL": database_url, "DATABASE_CONNECTIONS": "4",
            "CGROUP_PREFIX": f"sbx-scaleout-{self.name}",
            "SANDBOX_UID_BASE": str(UID_BASE + 10_000 * index),
            "MAX_CONCURRENT_RUNS": "4", "JOBS_WORKERS": "2", "PREFORK_RUNS": "1",
            "PRELOAD_MODULES": "", "JOBS_LEASE": "5", "JOBS_POLL_MS": "100",
            "SHUTDOWN_GRACE": "10", "WEBHOOK_SECRET": SECRET, "NETWORK_ALLOW": allow,
            "LOG_LEVEL": "WARNING"})
        self.proc = None
        self.log = []

    def start(self, attempts=1):
        """Starts the replica; `attempts` > 1 retries a start that exits (a killed replica's
        block of uids stays held until its spawner and zygotes have died, a second or so):
        what systemd's Restart=on-failure does for an operator."""
        for attempt in range(attempts):
            try:
                return self._start_once()
            except RuntimeError:
                if attempt + 1 == attempts or (self.proc and self.proc.poll() is None):
                    raise
                time.sleep(1)

    def _start_once(self):
        self.log = []
        self.proc = subprocess.Popen([os.environ["PYSANDBOX_BIN"], "serve"], cwd=self.cwd.name,
                                     env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, errors="replace")
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n" + "".join(self.log[-30:]))
            try:
                h = requests.get(self.url + "/health", timeout=2).json()
                if h["status"] == "healthy":
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not healthy:\n" + "".join(self.log[-30:]))

    def _read(self, proc):
        for line in proc.stderr:
            self.log.append(line)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Cluster:
    def __init__(self):
        self.pg = PostgresCluster()
        self.receiver = CallbackReceiver()
        self.database_url = self.pg.create_database("scaleout")
        allow = f"127.0.0.1:{self.receiver.port}"
        self.replicas = [Replica(i, free_port(), self.database_url, allow) for i in (1, 2, 3)]
        self.haproxy = None
        try:
            for r in self.replicas:
                r.start()
            self._start_haproxy()
        except Exception:
            self.close()
            raise

    def _start_haproxy(self):
        port = free_port()
        env = dict(os.environ, PYSANDBOX_LISTEN=f"127.0.0.1:{port}")
        for r in self.replicas:
            env[f"PYSANDBOX_REPLICA{r.index}"] = f"127.0.0.1:{r.port}"
        cfg = os.path.join(ROOT, "deploy", "haproxy", "haproxy.cfg")
        self.haproxy_log = tempfile.TemporaryFile(mode="w+")
        self.haproxy = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", cfg], env=env,
                                        stdout=self.haproxy_log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.haproxy.poll() is not None:
                self.haproxy_log.seek(0)
                raise RuntimeError("haproxy exited:\n" + self.haproxy_log.read())
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("haproxy never answered")

    def close(self):
        if self.haproxy and self.haproxy.poll() is None:
            self.haproxy.terminate()
            self.haproxy.wait(timeout=10)
        for r in self.replicas:
            r.stop()
            r.cwd.cleanup()
        self.receiver.close()
        self.pg.close()


@pytest.fixture(scope="module")
def cluster():
    if not os.environ.get("PYSANDBOX_BIN"):
        raise RuntimeError("PYSANDBOX_BIN is not set (CTest sets it)")
    c = Cluster()
    yield c
    c.close()
