"""Helpers of the deployment tests: settings, commands, HTTP to a server on a given port.

CTest passes PYSANDBOX_BIN (the build's binary), PYSANDBOX_DEB_DIR (where deploy_package put
the .deb) and PYSANDBOX_DEPLOY_CACHE (a cache dir under the build tree). Servers of these tests
use their own sandbox uids and cgroup prefix (PYSANDBOX_DEPLOY_UID_BASE,
PYSANDBOX_DEPLOY_CGROUP_PREFIX) so that they never meet another test's or a developer's.
"""
import functools
import glob
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UID_BASE = os.environ.get("PYSANDBOX_DEPLOY_UID_BASE", "3200000")  # clear of the security suite's 1600000 + up to 200000
CGROUP_PREFIX = os.environ.get("PYSANDBOX_DEPLOY_CGROUP_PREFIX", "pysbx-deploy")


def log(msg):
    print("[deploy] " + msg, flush=True)


def sh(*args, check=True, timeout=600, **kw):
    """Runs a command; on failure the error carries its output."""
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError("%s -> %d\nstdout: %s\nstderr: %s"
                             % (" ".join(args), r.returncode, r.stdout[-4000:], r.stderr[-4000:]))
    return r


def the_deb():
    """The one .deb deploy_package built (its version is the binary's)."""
    debs = glob.glob(os.path.join(os.environ["PYSANDBOX_DEB_DIR"], "pysandbox_*_amd64.deb"))
    assert len(debs) == 1, "expected one .deb from deploy_package, found %s" % debs
    return debs[0]


@functools.lru_cache(maxsize=None)
def settings_of_binary():
    """NAME -> default of every setting, from `pysandbox env-example` of this build."""
    out = sh(os.environ["PYSANDBOX_BIN"], "env-example").stdout
    pairs = (line.split("=", 1) for line in out.splitlines()
             if line and not line.startswith("#") and "=" in line)
    return dict(pairs)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, json.load(r)


def execute(base_url, code, timeout=60):
    body = json.dumps({"code": code}).encode()
    req = urllib.request.Request(base_url + "/execute", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.load(r)


def wait_healthy(base_url, alive=lambda: True, timeout=90):
    """Polls /health until status is healthy; fails early if `alive()` turns false."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        assert alive(), "the server exited before it became healthy (last /health: %s)" % last
        try:
            status, body = get_json(base_url + "/health", timeout=2)
            last = body
            if status == 200 and body.get("status") == "healthy":
                return body
        except (OSError, urllib.error.URLError, ValueError) as e:
            last = repr(e)
        time.sleep(0.2)
    raise AssertionError("not healthy within %d s; last /health: %s" % (timeout, last))
