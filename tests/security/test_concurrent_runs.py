"""Runs that exist at the same time cannot see or touch each other, the zygote or the server."""
import concurrent.futures
import errno
import time

from conftest import marker, sandbox_processes

VICTIM = r"""
import os, socket, subprocess, time
M = %r
open("/tmp/" + M, "w").write(M)
open("/dev/shm/" + M, "w").write(M)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(b"\0" + M.encode())
s.listen(4)
p = subprocess.Popen(["/bin/sleep", "30"], executable="/bin/sleep")
time.sleep(2.5)
print("victim alive", flush=True)
"""

ATTACKER = r"""
import json, os, socket
M = %r
out = {"pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
       "tmp": os.listdir("/tmp"), "shm": os.listdir("/dev/shm")}
try:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(b"\0" + M.encode())
    out["abstract"] = "connected"
except OSError as e:
    out["abstract"] = e.errno
# Signal everything this run can reach: only its own pid namespace.
try:
    os.kill(-1, 9)
    out["kill_all"] = "sent"
except OSError as e:
    out["kill_all"] = e.errno
print(json.dumps(out))
"""


def test_a_run_cannot_see_or_kill_a_concurrent_run(server):
    m = marker("victim")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        victim = pool.submit(server.execute, VICTIM % m, 10)
        time.sleep(1.0)  # the victim is running and has planted everything
        attacker = server.execute(ATTACKER % m, timeout=5)
        v = victim.result()
    res = attacker.result()
    assert res["pids"] == [1], res
    assert res["tmp"] == [] and res["shm"] == [], res
    assert res["abstract"] == errno.ECONNREFUSED, res
    assert res["kill_all"] in ("sent", errno.ESRCH), res
    assert (v["status"], v["stdout"]) == ("ok", "victim alive\n"), v.brief()
    server.assert_healthy()


def test_kill_everything_from_a_run_leaves_the_server_and_zygote_alive(server, run):
    code = r"""
import os, signal
for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):
    for pid in (-1, 0):
        try:
            os.kill(pid, sig)
        except OSError:
            pass
print("still here")
"""
    r = run(code)
    # kill(-1) does not reach pid 1 itself (the run); nothing outside its namespace either.
    assert r["stdout"] == "still here\n", r.brief()
    server.assert_healthy()
    # The zygotes of the baseline are all still alive (same pid, same start time).
    gone = server.baseline.zygotes - set(sandbox_processes())
    assert not gone, "baseline sandbox processes (zygotes) gone: %s" % gone


WRITABLE = r"""
import json, os, time
mounts = []
for line in open("/proc/self/mountinfo"):
    f = line.split()
    if f[5].split(",")[0] == "rw":
        mounts.append(f[4])
devs = {p: os.stat(p).st_dev for p in ("/work", "/tmp", "/dev/shm")}
time.sleep(%s)
print(json.dumps({"rw": sorted(set(mounts)), "devs": devs}))
"""

ALLOWED_RW = {"/work", "/tmp", "/dev/shm", "/proc", "/dev/null", "/dev/zero", "/dev/full",
              "/dev/random", "/dev/urandom", "/proc/keys", "/proc/timer_list", "/proc/kallsyms",
              "/proc/kcore", "/proc/sched_debug"}


def test_concurrent_runs_share_no_writable_file_system(server):
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        a = pool.submit(server.execute, WRITABLE % 1.0, 5)
        b = pool.submit(server.execute, WRITABLE % 1.0, 5)
        ra, rb = a.result().result(), b.result().result()
    for res in (ra, rb):
        assert set(res["rw"]) <= ALLOWED_RW, set(res["rw"]) - ALLOWED_RW
    # Each run has its own work dir, /tmp and /dev/shm: no device in common.
    assert not set(ra["devs"].values()) & set(rb["devs"].values()), (ra["devs"], rb["devs"])
    assert len(set(ra["devs"].values())) == 3, ra["devs"]


GROUP_ATTACKER = r"""
import os, signal
# Process-group-wide signals and priority changes are not limited by pid namespaces: they
# must not reach any other run (nor a prepared one).
for sig in (signal.SIGSTOP, signal.SIGKILL):
    try:
        os.killpg(os.getpgrp(), sig) if sig == signal.SIGSTOP else None
    except OSError:
        pass
try:
    os.setpriority(os.PRIO_PGRP, 0, 19)
except OSError:
    pass
print("group attacker pgid-is-self", os.getpgrp() == os.getpid())
os.kill(0, signal.SIGKILL)
"""


def test_process_group_signals_do_not_reach_other_runs(server):
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        victim = pool.submit(server.execute,
                             "import time, os\ntime.sleep(2)\nprint('victim alive', os.getpriority(os.PRIO_PROCESS, 0))", 10)
        time.sleep(1.0)
        attacker = server.execute(GROUP_ATTACKER, timeout=5)
        v = victim.result()
    # The attacker is pid 1 of its namespace: its own kill(0, SIGKILL) is ignored by the kernel.
    assert "pgid-is-self True" in attacker["stdout"], attacker.brief()
    assert (v["status"], v["stdout"]) == ("ok", "victim alive 0\n"), v.brief()
