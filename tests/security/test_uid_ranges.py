"""Host uids: every run has one of its own, servers never share theirs, and when none is free a
request gets a clear 503 at once.

A server owns SANDBOX_UID_BASE ... + 5119: its zygotes' uid (and the owner of their user
namespaces), one uid per prepared or running run (SANDBOX_UIDS of them) and the egress gids.
"""
import concurrent.futures
import os
import time

import pytest

from conftest import UID_BASE, Server, marker, processes_with

LIGHT = {"PRELOAD_MODULES": "json", "PREFORK_RUNS": "1"}

# Holds all of this run uid's pending-signal quota (RLIMIT_SIGPENDING) for a few seconds.
HOLD_SIGNALS = r"""
import ctypes, os, signal, time
libc = ctypes.CDLL(None, use_errno=True)
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGRTMIN])
n = 0
while libc.sigqueue(os.getpid(), signal.SIGRTMIN, 0) == 0:
    n += 1
libc.prctl(15, %r.encode(), 0, 0, 0)
time.sleep(3)
print(n)
"""

QUEUE_ONE = r"""
import ctypes, json, os, signal
libc = ctypes.CDLL(None, use_errno=True)
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGRTMIN])
print(json.dumps("ok" if libc.sigqueue(os.getpid(), signal.SIGRTMIN, 0) == 0 else ctypes.get_errno()))
"""

UIDS = r"""
import json
print(json.dumps(open("/proc/self/uid_map").read().split()))
"""


def _host_uids_of(name):
    """Real uids of the host processes whose comm is `name`."""
    out = []
    for p in os.listdir("/proc"):
        try:
            with open("/proc/%s/comm" % p) as f:
                if f.read().strip() != name:
                    continue
            with open("/proc/%s/status" % p) as f:
                out.append(int(next(l for l in f if l.startswith("Uid:")).split()[1]))
        except (OSError, StopIteration, ValueError):
            pass
    return out


def test_overlapping_uid_ranges_are_refused_and_distinct_ones_are_independent(server, host_clean):
    try:
        overlapping = Server("overlap", dict(LIGHT, SANDBOX_UID_BASE=str(UID_BASE + 1000)))
    except RuntimeError as e:
        refused = str(e)
    else:
        overlapping.stop()
        pytest.fail("a server whose uids overlap a running server's started")
    assert "overlap" in refused and "pid %d" % server.pid in refused, refused

    other = Server("other-range", dict(LIGHT, SANDBOX_UID_BASE=str(UID_BASE + 100000)))
    try:
        m = marker("s")[:15]
        host_clean.append(m)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            held = pool.submit(server.execute, HOLD_SIGNALS % m, timeout=20)
            deadline = time.monotonic() + 15
            while not processes_with(m):
                assert time.monotonic() < deadline and not held.done(), "the run never held"
                time.sleep(0.02)
            # The other server's runs queue signals while this one's run holds its whole quota,
            # and they run as uids of the other block.
            assert other.execute(QUEUE_ONE, timeout=10).result() == "ok"
            holder_uids = _host_uids_of(m)
            assert holder_uids and all(UID_BASE < u < UID_BASE + 4096 for u in holder_uids)
            assert held.result().result() > 0
        for _ in range(3):
            inside, outside, count = (int(x) for x in other.execute(UIDS).result())
            assert (inside, count) == (1000, 1) and 1000 <= outside < 1000 + 4095
        zygote_maps = [open("/proc/%s/uid_map" % p).read().split()
                       for p in os.listdir("/proc") if p.isdigit() and _uid(p) == UID_BASE + 100000]
        assert zygote_maps, "no zygote of the other server"
        for m_ in zygote_maps:
            starts = [int(x) for x in m_[1::3]]
            assert all(UID_BASE + 100000 <= s < UID_BASE + 100000 + 4096 for s in starts), m_
    finally:
        other.stop()


def _uid(pid):
    try:
        with open("/proc/%s/status" % pid) as f:
            return int(next(l for l in f if l.startswith("Uid:")).split()[1])
    except (OSError, StopIteration):
        return None


def test_the_same_uid_base_is_allowed_with_a_warning(server):
    twin = Server("same-base", dict(LIGHT))
    try:
        assert any("same SANDBOX_UID_BASE" in line for line in twin.log), twin.log[-20:]
        assert twin.execute("print(1)")["stdout"] == "1\n"
    finally:
        twin.stop()


HOLD_UID = r"""
import ctypes, time
ctypes.CDLL(None).prctl(15, %r.encode(), 0, 0, 0)
time.sleep(2)
print("done")
"""


def test_no_free_run_uid_is_a_clear_503_at_once(server, host_clean):
    tight = Server("one-uid", dict(LIGHT, SANDBOX_UIDS="1", PREFORK_RUNS="0",
                                   MAX_CONCURRENT_RUNS="2", SANDBOX_UID_BASE=str(UID_BASE + 200000)))
    try:
        m = marker("u")[:15]
        host_clean.append(m)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            first = pool.submit(tight.execute, HOLD_UID % m, 10)
            deadline = time.monotonic() + 15
            while not processes_with(m):  # the first run holds the only uid
                assert time.monotonic() < deadline and not first.done(), "the first run never ran"
                time.sleep(0.02)
            t0 = time.monotonic()
            r = tight.post({"code": "print(2)", "timeout": 5}, http_timeout=10)
            elapsed = time.monotonic() - t0
            assert r.status_code == 503, (r.status_code, r.text)
            assert "SANDBOX_UIDS" in r.json()["detail"] and r.headers.get("Retry-After"), r.text
            assert elapsed < 1.5, elapsed
            assert first.result()["stdout"] == "done\n"
        # Once the run (and everything of it) is gone, its uid serves the next one.
        deadline = time.monotonic() + 5
        while True:
            r = tight.post({"code": "print(3)", "timeout": 5})
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert r.status_code == 200 and r.json()["stdout"] == "3\n", r.text
    finally:
        tight.stop()
