"""The quota tests' attack: one run takes a per-user kernel quota and holds it while 8 victim
runs (more than the prepared stock: the rest are set up meanwhile) use the same quota, and the
test probes host root; the server must log no failed set-up meanwhile.
"""
import concurrent.futures
import json
import subprocess
import time

import requests

from conftest import Response, assert_no_secret, marker, processes_with

# A test file using these: 1 attacker + 8 victims at once.
SERVER_ENV = {"MAX_CONCURRENT_RUNS": "12"}
VICTIMS = 8
HOLD_S = 3.5

# The attacker's start: ctypes libc, and `held(m, out)`: comm = m (seen by the test on the
# host), then hold the quota while the victims run, then print `out`.
ATTACK = r"""
import ctypes, json, os, signal, socket, time
libc = ctypes.CDLL(None, use_errno=True)
def held(m, out):
    libc.prctl(15, m.encode(), 0, 0, 0)
    time.sleep(%r)
    print(json.dumps(out))
def err():
    return ctypes.get_errno()
""" % HOLD_S

VICTIM = r"""
import ctypes, json, os, socket
libc = ctypes.CDLL(None, use_errno=True)
"""


def host_python(code):
    """Runs `code` in a fresh host python3 as root; returns its last stdout line as JSON."""
    out = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True,
                         timeout=30, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def wait_for_process(m, pending, timeout=20):
    deadline = time.monotonic() + timeout
    while not processes_with(m):
        assert time.monotonic() < deadline, "the attack never held its quota"
        assert not pending.done(), "the attack ended early: %s" % pending.result().brief()
        time.sleep(0.02)


def execute_alone(server, code, timeout):
    """server.execute on a connection of its own, closed after the answer: nine requests at once
    on the shared session would leave nine keep-alive connections (fds) in the server."""
    with requests.Session() as http:
        r = http.post(server.url + "/execute", json={"code": code, "timeout": timeout},
                      timeout=timeout + 30)
    assert_no_secret(r.content)
    assert r.status_code == 200, (r.status_code, r.text[:2000])
    return Response(r.json())


def hold_and_probe(server, host_clean, attack, probe, host_probe=None):
    """Runs `attack` (its `held(M, out)` call marks the quota as taken), then VICTIMS runs of
    `probe` at once and `host_probe()`. Returns (attack's JSON, victims' JSON, host's)."""
    m = marker("q")[:15]  # comm holds 15 characters
    host_clean.append(m)
    log_mark = len(server.log)
    with concurrent.futures.ThreadPoolExecutor(1 + VICTIMS) as pool:
        pending = pool.submit(execute_alone, server, ATTACK + "M = %r\n" % m + attack, 60)
        wait_for_process(m, pending)
        host = host_probe() if host_probe else None
        victims = [pool.submit(execute_alone, server, VICTIM + probe, 30) for _ in range(VICTIMS)]
        results = [v.result() for v in victims]
        still_held = bool(processes_with(m))
        attacked = pending.result()
    assert still_held, "the attack ended before the victims: the test proves nothing"
    outs = [r.result() for r in results]
    failed = [l for l in server.log[log_mark:] if "prefork failed" in l or
              "verdict=internal_error" in l or "verdict=setup_failed" in l]
    assert not failed, "set-up failed while the quota was held:\n" + "".join(failed[:5])
    return attacked.result(), outs, host


def run_shares(server):
    """The per-run shares the server logged at start (event="run uids")."""
    line = next((l for l in server.log if 'event="run uids"' in l), "")
    fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
    return {k: int(v) for k, v in fields.items() if v.isdigit()}


