"""Server lifecycle (issue 7): SIGTERM drains and cleans; after SIGKILL the next start cleans.

Each test runs its own server with egress on (so that network stacks and the firewall table
are part of what must be cleaned), its own SANDBOX_UID_BASE and CGROUP_PREFIX.
"""
import os
import signal
import subprocess
import threading
import time

import pytest
import requests

from conftest import ServerProcess

UID_BASE = 1750000
PREFIX = "pysbx-life-%d" % os.getpid()
ENV = {"SANDBOX_UID_BASE": str(UID_BASE), "CGROUP_PREFIX": PREFIX, "NETWORK_MODE": "egress",
       "SHUTDOWN_GRACE": "10"}
TABLE = "pysandbox_egress_" + PREFIX.replace("-", "_")


def _ids(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            return [int(x) for x in next(l for l in f if l.startswith(field)).split()[1:]]
    except (OSError, StopIteration, ValueError):
        return []


def leftovers():
    """Everything of this file's servers on the host: processes, cgroups, firewall table."""
    found = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        uids, gids = _ids(int(p), "Uid:"), _ids(int(p), "Gid:")
        if any(UID_BASE <= u < UID_BASE + 4096 for u in uids):  # zygotes and run uids
            found.append("sandbox process %s" % p)
        if gids and UID_BASE + 4096 <= gids[0] < UID_BASE + 5120:
            found.append("network stack %s" % p)
    for root, dirs, _ in os.walk("/sys/fs/cgroup"):
        if os.path.basename(root) == PREFIX:
            found += ["cgroup %s/%s" % (root, d) for d in dirs] + ["cgroup prefix dir %s" % root]
            dirs.clear()
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    found += ["nft table %s" % t for t in tables.split() if t == TABLE]
    return found


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


@pytest.fixture(autouse=True)
def clean_host_after():
    yield
    assert wait_for(lambda: not leftovers() or None, 10), leftovers()


def test_sigterm_lets_the_running_run_finish_refuses_new_ones_and_cleans_everything():
    server = ServerProcess(env=ENV)
    assert wait_for(lambda: any("network stack" in x for x in leftovers()), 10), \
        "egress server has no prepared network stacks to clean"
    result = {}
    t = threading.Thread(target=lambda: result.update(
        r=server.execute("import time; time.sleep(2); print('finished')", timeout=20)))
    t.start()
    time.sleep(0.7)  # the run is in flight
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    try:
        late = requests.post(server.url + "/execute", json={"code": "print(1)"}, timeout=5).status_code
    except requests.ConnectionError:
        late = "refused"
    t.join()
    assert result["r"].status_code == 200 and result["r"].json()["stdout"] == "finished\n"
    assert late in ("refused", 503), late
    assert server.proc.wait(timeout=20) == 0
    assert wait_for(lambda: not leftovers() or None, 10), leftovers()
    server.stop()


def test_after_sigkill_the_next_start_cleans_what_the_dead_server_left():
    first = ServerProcess(env=ENV)
    t = threading.Thread(target=lambda: first.execute("import time; time.sleep(30)", timeout=60))
    t.daemon = True
    t.start()
    time.sleep(1.0)
    assert leftovers(), "nothing to clean: the test would prove nothing"
    first.proc.kill()
    first.proc.wait()
    # What the killed server leaves: at least its firewall table and its run cgroups.
    assert any(x.startswith("nft table") for x in leftovers())
    second = ServerProcess(env=ENV)
    try:
        assert second.execute("print(2)", timeout=10).json()["stdout"] == "2\n"
        # The killed server's processes end by themselves (its spawner sees EOF, the zygotes
        # and their pid namespaces go with it, the network stacks see their exit pipe close);
        # its runs' cgroups were killed and removed by the second server's start.
        def stale():
            mine = {str(p) for p in _children_tree(second.proc.pid)}
            return [x for x in leftovers() if ("sandbox process" in x or "network stack" in x)
                    and x.split()[-1] not in mine]
        assert wait_for(lambda: not stale() or None, 5), "left by the killed server: %s" % stale()
        tables = [x for x in leftovers() if x.startswith("nft table")]
        assert len(tables) == 1, tables  # replaced, not duplicated
    finally:
        second.stop()
    first.stop()


def _children_tree(root):
    """Pids of `root` and all its descendants."""
    children = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/stat" % p) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(p))
    out, todo = set(), [root]
    while todo:
        p = todo.pop()
        out.add(p)
        todo += children.get(p, [])
    return out
