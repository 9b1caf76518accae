"""Faults from outside a run: its processes or its zygote killed from the host, a sandbox that
cannot be set up (a run cgroup that cannot be made, no pids left for the zygote's fork). Each
checks the request's answer, that the server goes on (the next run works) and that nothing of
the run is left on the host.

This file's server keeps no runs prepared ahead (PREFORK_RUNS=0): every request sets up its
sandbox when it arrives, so a fault put in place before a request hits that request's set-up.
"""
import concurrent.futures
import contextlib
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import RUN_UIDS, UID_BASE, marker, wait_until

SERVER_ENV = {"PREFORK_RUNS": "0"}

# A run that names its pid 1 (G) `M` once it has printed, keeps a second process (argv[0]
# M + "c") and sleeps: the test finds it on the host by that name and kills from outside.
SLEEPER = r"""
import ctypes, os, time
M = %r
if os.fork() == 0:
    os.execv("/bin/sleep", [M + "c", "60"])
print("started", flush=True)
ctypes.CDLL(None).prctl(15, M.encode(), 0, 0, 0)  # PR_SET_NAME
time.sleep(60)
"""
RUN_TIMEOUT = 30  # the kills below must end the run long before this


def _status(pid):
    """/proc/PID/status as {field: [values]}; {} once the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            return {k: v.split() for k, _, v in (line.partition(":") for line in f)}
    except OSError:
        return {}


def _ppid(pid):
    return int(_status(pid).get("PPid", ["0"])[0])


def _pid_named(name, timeout=10.0):
    """Host pid of the process whose comm is `name`, once it exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
            if _status(pid).get("Name") == [name]:
                return pid
        time.sleep(0.02)
    raise AssertionError("no process named %s appeared on the host" % name)


@contextlib.contextmanager
def sleeping_run(server, host_clean):
    """Starts SLEEPER; yields (G's host pid, the pending response)."""
    m = marker("k")[:15]  # comm holds 15 characters
    host_clean.append(m)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(server.execute, SLEEPER % m, timeout=RUN_TIMEOUT)
        g = _pid_named(m)
        uids = _status(g)["Uid"]
        assert len(set(uids)) == 1 and int(uids[0]) in RUN_UIDS, _status(g)
        assert _status(g)["NSpid"][-1] == "1", _status(g)  # pid 1 of the run's pid namespace
        yield g, pending


def count_log(server, *words):
    return sum(all(w in line for w in words) for line in server.log)


@contextlib.contextmanager
def zygote_replacement_awaited(server):
    """On the way out: if a lean zygote died meanwhile, waits for its replacement (a lean
    zygote started after the death) and adopts it into the host baseline."""
    died, ready = count_log(server, "zygote died"), count_log(server, "zygote ready", "kind=lean")
    try:
        yield
    finally:
        if count_log(server, "zygote died") > died:
            assert not wait_until(
                lambda: count_log(server, "zygote ready", "kind=lean") <= ready, timeout=30), \
                "no new lean zygote:\n" + "".join(server.log[-20:])
            assert not wait_until(lambda: not server.baseline.adopt_new_zygotes(), timeout=5), \
                "the new zygote is not a child of the spawner"


def live_zygotes(server):
    """Host pids of the zygotes of the baseline that are still alive."""
    return {pid for pid, _ in server.baseline.zygote_processes() & server.baseline.zygotes}


def test_run_killed_from_the_host_ends_with_a_clear_error(server, host_clean):
    with sleeping_run(server, host_clean) as (g, pending):
        os.kill(g, signal.SIGKILL)
        r = pending.result(timeout=RUN_TIMEOUT + 30)
    assert r["success"] is False and r["status"] == "error", r.brief()
    assert r["signal"] == signal.SIGKILL and r["exit_code"] is None, r.brief()
    assert r["error"] == "Code execution failed: killed by signal 9 (SIGKILL)", r.brief()
    assert r["stdout"] == "started\n", r.brief()  # what it printed before is kept
    assert r.elapsed < 10, r.elapsed  # ended by the kill, not by its timeout
    server.assert_healthy()
    # host_clean: the run's second process died with its pid 1, no run cgroup is left.


def test_zygote_killed_during_a_run_fails_that_run_and_is_replaced(server, host_clean):
    with zygote_replacement_awaited(server), sleeping_run(server, host_clean) as (g, pending):
        zygote = _ppid(g)  # G is the zygote's own child: no process stands between them
        assert zygote in live_zygotes(server), zygote
        os.kill(zygote, signal.SIGKILL)
        r = pending.result(timeout=RUN_TIMEOUT + 30)
    assert r["success"] is False and r["status"] == "internal_error", r.brief()
    assert r["error"] == "Sandbox error: run_protocol", r.brief()
    assert r.elapsed < 10, r.elapsed
    server.assert_healthy()


@contextlib.contextmanager
def read_only_mount_on(path):
    """A read-only tmpfs over `path` for the duration: mkdir below it fails with EROFS."""
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=4k", "sbxsec-fault", str(path)],
                   check=True)
    try:
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_run_cgroup_that_cannot_be_made_fails_that_request_naming_the_step(server, host_clean):
    dirs = server.baseline.cgroups.dirs
    if not dirs:
        pytest.skip("needs the server's cgroups (none active on this host)")
    # v1: the pids hierarchy, made after memory (whose new group must be rolled back); v2: the one.
    target = next((d for d in dirs if "pids" in d.parts), dirs[0])
    with read_only_mount_on(target):
        r = server.execute("print('never runs')", timeout=5)
    assert r["success"] is False and r["status"] == "internal_error", r.brief()
    assert r["error"] == "Sandbox error: cgroup_create", r.brief()
    assert r["stdout"] == "" and r["exit_code"] is None, r.brief()
    assert str(target) not in r.brief() and "EROFS" not in r.brief(), r.brief()  # log only
    assert any("cgroup_create: EROFS" in line and str(target) in line for line in server.log), \
        "".join(server.log[-10:])
    server.assert_healthy()
    # host_clean: the group made in the other hierarchies before the failure is gone.


PRLIMIT_NPROC = r"""
import json, resource, sys
pid, new = int(sys.argv[1]), json.loads(sys.argv[2])
try:
    print(json.dumps(resource.prlimit(pid, resource.RLIMIT_NPROC, *([tuple(new)] if new else []))))
except ProcessLookupError:
    print("null")
"""


def _zygote_nproc(pid, new=None):
    """prlimit(pid, RLIMIT_NPROC[, new]) of a zygote, done as the zygotes' own uid: their user
    namespaces are owned by SANDBOX_UID_BASE, so host root may change their limits only with
    CAP_SYS_RESOURCE (test hosts may lack it), their own uid always."""
    out = subprocess.run(["/usr/bin/python3", "-c", PRLIMIT_NPROC, str(pid), json.dumps(new)],
                         user=UID_BASE, group=UID_BASE, extra_groups=[], capture_output=True,
                         text=True, check=True, timeout=10)
    return json.loads(out.stdout)


@contextlib.contextmanager
def no_pids_for_zygotes(server):
    """Soft RLIMIT_NPROC 0 on every zygote: their next fork fails with EAGAIN (out of pids).
    Only the soft limit: raising it back needs no CAP_SYS_RESOURCE."""
    saved = {}
    for pid in live_zygotes(server):
        saved[pid] = _zygote_nproc(pid)
        _zygote_nproc(pid, [0, saved[pid][1]])
    try:
        yield
    finally:
        for pid, limits in saved.items():
            if limits is not None:
                _zygote_nproc(pid, limits)


def test_no_pids_left_for_a_run_fails_that_request_and_the_server_goes_on(server, host_clean):
    with zygote_replacement_awaited(server), no_pids_for_zygotes(server):
        r = server.execute("print('never runs')", timeout=5)
    assert r["success"] is False and r["status"] == "internal_error", r.brief()
    assert r["error"].startswith("Sandbox error: "), r.brief()
    assert r["stdout"] == "" and r["exit_code"] is None, r.brief()
    server.assert_healthy()


def test_no_pids_left_for_a_run_names_the_fork_and_keeps_the_zygote(server, host_clean):
    zygotes, died = live_zygotes(server), count_log(server, "zygote died")
    with zygote_replacement_awaited(server), no_pids_for_zygotes(server):
        r = server.execute("print('never runs')", timeout=5)
    assert r["status"] == "internal_error" and r["error"] == "Sandbox error: fork_run", \
        r.brief()
    assert r["stdout"] == "" and r["exit_code"] is None, r.brief()
    assert live_zygotes(server) == zygotes, "a zygote died of a failed fork"
    assert count_log(server, "zygote died") == died, "".join(server.log[-20:])
    server.assert_healthy()
    assert live_zygotes(server) == zygotes  # the next run was served by the same zygotes
