"""End-to-end fixtures: start the real `pysandbox serve` on a free loopback port.

The binary comes from $PYSANDBOX_BIN (CTest sets it). The port is parsed from the
`event=listening ... port=N` log line on stderr. Tests needing other settings use
`start_server(env={...})` as a context manager.
"""
import contextlib
import os
import re
import signal
import subprocess
import tempfile
import threading
import time

import pytest
import requests

LISTENING = re.compile(r"\bevent=listening\b.*\bport=(\d+)")
START_TIMEOUT_S = 60


class ServerProcess:
    """One running server; `url` is its base URL, `log` the stderr lines seen so far."""

    def __init__(self, env=None, args=()):
        binary = os.environ.get("PYSANDBOX_BIN", "")
        if not binary or not os.access(binary, os.X_OK):
            # A test that cannot start its server fails; it does not skip.
            pytest.fail("PYSANDBOX_BIN does not name an executable pysandbox binary", pytrace=False)
        self.log = []
        self._port = None
        self._ready = threading.Event()
        self._cwd = tempfile.TemporaryDirectory(prefix="pysandbox-e2e-")  # no stray .env
        full_env = dict(os.environ)
        full_env.update({"HOST": "127.0.0.1", "LOG_LEVEL": "INFO"})
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [binary, "serve", "--port", "0", *args],
            cwd=self._cwd.name, env=full_env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace")
        threading.Thread(target=self._read_stderr, daemon=True).start()
        if not self._ready.wait(START_TIMEOUT_S) or self._port is None:
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.log[-50:]))
        self.url = f"http://127.0.0.1:{self._port}"
        self._wait_healthy()

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.log.append(line)
            m = LISTENING.search(line)
            if m and self._port is None:
                self._port = int(m.group(1))
                self._ready.set()
        self._ready.set()  # exited before listening

    def _wait_healthy(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("server never answered /health")

    def execute(self, code, timeout=None, files=None, **extra):
        payload = {"code": code, **extra}
        if timeout is not None:
            payload["timeout"] = timeout
        if files is not None:
            payload["files"] = files
        http_timeout = (timeout or 30) + 30
        return requests.post(self.url + "/execute", json=payload, timeout=http_timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._cwd.cleanup()


@pytest.fixture(scope="session", autouse=True)
def require_binary():
    """Every test here needs the binary (CTest passes it): without it they fail, not skip."""
    binary = os.environ.get("PYSANDBOX_BIN", "")
    if not binary or not os.access(binary, os.X_OK):
        pytest.fail("PYSANDBOX_BIN does not name an executable pysandbox binary", pytrace=False)


@contextlib.contextmanager
def start_server(env=None, args=()):
    """A server of its own with extra environment settings, stopped on exit."""
    server = ServerProcess(env=env, args=args)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def server():
    s = ServerProcess()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def base_url(server):
    return server.url
