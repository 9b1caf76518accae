"""The runner's end report (fd 255, the "end" record) is the program's own claim, and the server may
answer from it while the run's pid 1 is still exiting. A program that forges it can only end
its own run early; with any other process of the run still alive, the server ignores it and
waits for the real exit. Either way nothing of the run is left on the host.
"""
import time

from conftest import marker

FORGE_THEN_SLEEP = r"""
import os, sys, time
print("before", flush=True)
os.write(255, b'end 12\n{"status":0}')
time.sleep(20)
print("never")
"""

# A second process of the run stays alive (named by marker) while pid 1 forges the report
# and then exits 7 on its own a little later.
FORGE_WITH_A_CHILD = r"""
import os, time
M = %r
if os.fork() == 0:
    os.execv("/bin/sleep", [M, "60"])
os.write(255, b'end 12\n{"status":0}')
time.sleep(1.5)
os._exit(7)
"""


def test_a_forged_end_report_ends_only_that_run_early(run, host_clean):
    t0 = time.monotonic()
    r = run(FORGE_THEN_SLEEP, timeout=30)
    elapsed = time.monotonic() - t0
    assert elapsed < 10, elapsed  # answered from the report, not at the timeout
    assert r["status"] == "ok" and r["exit_code"] == 0, r
    assert r["stdout"] == "before\n", r
    # host_clean: the sleeping pid 1 was killed after the answer, its cgroup removed.


def test_a_forged_end_report_is_ignored_while_other_processes_run(run, host_clean):
    m = marker("e")[:15]
    host_clean.append(m)
    r = run(FORGE_WITH_A_CHILD % m, timeout=30)
    assert r["exit_code"] == 7 and r["status"] == "error", r  # the real exit, not the claim
    # host_clean: the child died with pid 1.


def test_the_next_run_is_unaffected(run, host_clean):
    run(FORGE_THEN_SLEEP, timeout=30)
    r = run("print('fresh')")
    assert r["status"] == "ok" and r["stdout"] == "fresh\n", r


# Forges the report, then forks from 8 threads (at staggered times around when the server acts
# on it): children made after the server checked that pid 1 was alone would outlive the
# answer. The ballast makes pid 1's own exit take milliseconds, as a full zygote's does.
FORGE_THEN_FORK = r"""
import ctypes, os, threading, time
libc = ctypes.CDLL(None)
M = %r
ballast = b"x" * (64 << 20)
def forker(delay):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < delay:
        pass
    try:
        if os.fork() == 0:
            libc.prctl(15, M.encode(), 0, 0, 0)
            time.sleep(20)
            os._exit(0)
    except OSError:
        pass
threads = [threading.Thread(target=forker, args=(%f + i * 40e-6,)) for i in range(8)]
os.write(255, b'end 12\n{"status":0}')
for t in threads:
    t.start()
time.sleep(20)
"""


def _run_processes_named(server, name):
    """Processes in the server's run cgroups named `name`, read at once (no /proc walk)."""
    found = []
    for members in server.baseline.cgroups.run_groups().values():
        for pid in members:
            try:
                with open("/proc/%d/comm" % pid) as f:
                    if f.read().strip() == name:
                        found.append(pid)
            except OSError:
                pass
    return found


def test_nothing_of_a_run_outlives_its_answer(server, host_clean):
    m = marker("f")[:15]
    host_clean.append(m)
    survivors = []
    for i in range(30):
        r = server.execute(FORGE_THEN_FORK % (m, i * 20e-6), timeout=30)
        survivors += _run_processes_named(server, m)  # right after the answer
        assert r["status"] == "ok" and r["exit_code"] == 0, r.brief()
    assert not survivors, "processes of answered runs still running: %s" % survivors
