"""Resource attacks: fork/thread bombs, memory bombs, disk and inode fill, output floods, CPU
spin and daemons that try to outlive their run. Each checks the verdict, the server's health
and that nothing of the run is left on the host."""
import base64
import errno
import signal

from conftest import LIMITS, MiB, disk_free, marker


def test_fork_bomb_is_bounded_by_the_pids_limit(server, run, host_clean):
    m = marker("fork")
    host_clean.append(m)
    code = r"""
import json, os
pids, err = [], None
for i in range(500):
    try:
        pid = os.fork()
    except OSError as e:
        err = e.errno
        break
    if pid == 0:
        os.execv("/bin/sleep", ["%s", "60"])
    pids.append(pid)
print(json.dumps({"forked": len(pids), "errno": err}))
""" % m
    r = run(code, timeout=5)
    res = r.result()
    assert res["errno"] == errno.EAGAIN, res
    assert 1 <= res["forked"] <= LIMITS["PIDS_LIMIT"] - 1, res
    server.assert_healthy()


def test_exponential_fork_bomb_times_out_and_leaves_nothing(server, run, host_clean):
    code = r"""
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""
    r = run(code, timeout=2)
    assert r["status"] == "timeout", r.brief()
    assert r.elapsed < 6, r.elapsed
    server.assert_healthy()


def test_thread_bomb_is_bounded_by_the_pids_limit(run):
    code = r"""
import json, threading, time
ev = threading.Event()
n, err = 0, None
try:
    for i in range(1000):
        threading.Thread(target=ev.wait, daemon=True).start()
        n += 1
except RuntimeError as e:
    err = str(e)
ev.set()
print(json.dumps({"threads": n, "error": err}))
"""
    res = run(code, timeout=5).result()
    assert res["error"] == "can't start new thread", res
    assert res["threads"] <= LIMITS["PIDS_LIMIT"] - 1, res


def test_child_killed_for_memory_is_reported_while_the_program_goes_on(server, run):
    code = r"""
import os
pid = os.fork()
if pid == 0:
    chunks = []
    while True:
        chunks.append(b"x" * (16 << 20))
_, status = os.waitpid(pid, 0)
print("child signal", os.WTERMSIG(status) if os.WIFSIGNALED(status) else None)
"""
    r = run(code, timeout=10)
    assert r["status"] == "ok" and r["stdout"] == "child signal 9\n", r.brief()
    assert any("killed for exceeding MEMORY_LIMIT (%d MiB)" % (LIMITS["MEMORY_LIMIT"] // MiB) in w
               for w in r["warnings"]), r.brief()


def test_memory_bomb_is_killed_with_memory_limit(server, run):
    code = r"""
chunks = []
while True:
    chunks.append(b"x" * (16 << 20))
"""
    r = run(code, timeout=10)
    assert r["status"] == "memory_limit", r.brief()
    assert r["error"] == "Memory limit exceeded (limit: %d MiB)" % (LIMITS["MEMORY_LIMIT"] // MiB), r.brief()
    assert r["success"] is False and r["signal"] == signal.SIGKILL, r.brief()
    assert r["memory_peak"] <= LIMITS["MEMORY_LIMIT"] + MiB, r.brief()
    assert r.elapsed < 8, r.elapsed
    server.assert_healthy()


def test_memory_of_all_processes_counts_together(server, run):
    # Four children of 96 MiB each: each alone is under the limit, together over it.
    code = r"""
import json, os, time
kids = []
for i in range(4):
    pid = os.fork()
    if pid == 0:
        b = bytearray(96 << 20)
        for j in range(0, len(b), 4096):
            b[j] = 1
        time.sleep(1)
        os._exit(0)
    kids.append(pid)
statuses = [os.waitpid(k, 0)[1] for k in kids]
print(json.dumps({"signals": [os.WTERMSIG(s) if os.WIFSIGNALED(s) else 0 for s in statuses]}))
"""
    r = run(code, timeout=10)
    assert r["memory_peak"] <= LIMITS["MEMORY_LIMIT"] + MiB, r.brief()
    if r["status"] == "ok":  # the OOM killer picked children only: at least one was killed
        assert signal.SIGKILL in r.result()["signals"], r.brief()
        # ... and the response says why they vanished.
        assert any("killed for exceeding MEMORY_LIMIT" in w for w in r["warnings"]), r.brief()
    else:
        assert r["status"] == "memory_limit", r.brief()
    server.assert_healthy()


FILL = r"""
import errno, json, os
M = %r
def fill(path, keep):
    n, err = 0, None
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    chunk = b"\xa5" * (1 << 20)
    try:
        while True:
            n += os.write(fd, chunk)
    except OSError as e:
        err = e.errno
    os.close(fd)
    if not keep:
        os.remove(path)  # a full work dir would come back as a 32 MiB output file
    return [n, err]
out = {}
for d in ("/work", "/tmp", "/dev/shm"):
    st = os.statvfs(d)
    # Left in /tmp and /dev/shm under the marker name: the host check would find a leak there.
    out[d] = fill(d + "/" + M, keep=d != "/work") + [st.f_blocks * st.f_frsize]
try:
    fd = os.open("/work/sparse", os.O_WRONLY | os.O_CREAT, 0o600)
    os.ftruncate(fd, 1 << 40)
    out["sparse"] = "ok"
except OSError as e:
    out["sparse"] = e.errno
finally:
    os.close(fd)
    os.remove("/work/sparse")
print(json.dumps(out))
"""


def test_disk_fill_is_bounded_and_host_disk_untouched(server, run, host_clean):
    m = marker("fill")
    host_clean.append(m)
    before = disk_free()
    r = run(FILL % m, timeout=10)
    after = disk_free()
    res = r.result()
    limits = {"/work": LIMITS["WORKDIR_SIZE_LIMIT"], "/tmp": LIMITS["TMP_SIZE_LIMIT"],
              "/dev/shm": LIMITS["TMP_SIZE_LIMIT"]}
    for d, limit in limits.items():
        written, err, size = res[d]
        assert err in (errno.ENOSPC, errno.EFBIG), (d, res[d])
        assert size == limit, (d, size, limit)
        assert written <= limit, (d, written)
    # RLIMIT_FSIZE: no file may grow (even sparsely) beyond the work dir's size.
    assert res["sparse"] == errno.EFBIG, res
    # The host's disks did not take the 64 MiB left in /tmp and /dev/shm (others may write
    # concurrently, hence the margin); host_clean also looks for the marker-named files.
    for path, free in before.items():
        assert free - after.get(path, free) < LIMITS["TMP_SIZE_LIMIT"], (path, free, after)
    server.assert_healthy()


FILL_UNCAUGHT = r"""
import os
M = %r
n = 0
try:
    while True:  # /tmp full first, and left full
        with open("/tmp/%%s-%%d" %% (M, n), "wb") as f:
            f.write(b"\xa5" * (1 << 20))
        n += 1
except OSError as e:
    print("tmp", e.errno, flush=True)
n = 0
while True:  # then the work dir, until an ENOSPC the program does not catch ends it
    with open("/work/%%s-%%03d" %% (M, n), "wb") as f:
        f.write(b"\x5a" * (1 << 20))
    n += 1
"""

FRESH_DIRS = r"""
import json, os
st = os.statvfs("/work")
print(json.dumps({"work": sorted(os.listdir("/work")), "tmp": os.listdir("/tmp"),
                  "work_used": (st.f_blocks - st.f_bfree) * st.f_frsize}))
"""


def test_work_dir_and_tmp_filled_until_enospc_end_the_run_clearly(server, run, host_clean):
    m = marker("full")
    host_clean.append(m)
    r = run(FILL_UNCAUGHT % m, timeout=15)
    assert r["status"] == "error" and r["success"] is False and r["exit_code"] == 1, r.brief()
    assert r["error"] == "Code execution failed", r.brief()
    assert r["stdout"] == "tmp %d\n" % errno.ENOSPC, r.brief()
    assert r["stderr"].splitlines()[-1] == "OSError: [Errno 28] No space left on device", r.brief()
    # The full work dir comes back as output files, bounded by its size.
    sizes = [len(base64.b64decode(v)) for k, v in r["files"].items() if k.startswith(m)]
    assert len(sizes) == len(r["files"]) and sum(sizes) <= LIMITS["WORKDIR_SIZE_LIMIT"], r.brief()
    assert sum(sizes) >= LIMITS["WORKDIR_SIZE_LIMIT"] - 2 * MiB, sum(sizes)
    assert r.elapsed < 10, r.elapsed
    # The next run starts with an empty work dir and /tmp: nothing of the full ones is left.
    res = run(FRESH_DIRS, timeout=5).result()
    assert res["work"] == ["main.py"] and res["tmp"] == [], res
    assert res["work_used"] < MiB, res
    server.assert_healthy()


def _many_files_code(directory, count):
    return r"""
import errno, json, os
d = %r
n, err = 0, None
for i in range(%d):
    try:
        os.close(os.open("%%s/f%%06d" %% (d, i), os.O_WRONLY | os.O_CREAT, 0o600))
        n += 1
    except OSError as e:
        err = e.errno
        break
print(json.dumps({"created": n, "errno": err}))
""" % (directory, count)


def test_100k_files_in_workdir_hit_the_inode_limit_and_response_stays_bounded(server, run):
    r = run(_many_files_code("/work", 100_000), timeout=20)
    res = r.result()
    assert res["errno"] == errno.ENOSPC, res
    assert res["created"] <= LIMITS["WORKDIR_MAX_FILES"], res
    # The files are left in the work dir: collection returns at most MAX_OUTPUT_FILES of them.
    assert len(r["files"]) <= LIMITS["MAX_OUTPUT_FILES"], len(r["files"])
    body_bytes = len(r["stdout"]) + sum(len(w) for w in r["warnings"]) + sum(
        len(k) + len(v) for k, v in r["files"].items())
    assert body_bytes < 2 * MiB, body_bytes
    assert r.elapsed < 15, r.elapsed
    server.assert_healthy()


def test_100k_files_in_tmp_hit_the_inode_limit(server, run):
    r = run(_many_files_code("/tmp", 100_000), timeout=20)
    res = r.result()
    assert res["errno"] == errno.ENOSPC, res
    assert res["created"] <= LIMITS["WORKDIR_MAX_FILES"], res
    server.assert_healthy()


def test_stdout_flood_is_truncated_and_ended(server, run):
    code = r"""
import sys
line = "A" * 65535 + "\n"
while True:
    sys.stdout.write(line)
"""
    r = run(code, timeout=20)
    assert r["status"] == "output_limit", r.brief()
    assert r["stdout_truncated"] is True, r.brief()
    assert len(r["stdout"]) == LIMITS["MAX_OUTPUT_SIZE"], len(r["stdout"])
    assert r["error"] == "Output limit exceeded: stdout exceeded 1 MiB", r.brief()
    assert r.elapsed < 5, r.elapsed  # ended for flooding, not by the 20 s timeout
    server.assert_healthy()


def test_stderr_flood_is_truncated_and_ended(server, run):
    code = r"""
import os
chunk = b"E" * 65536
while True:
    os.write(2, chunk)
"""
    r = run(code, timeout=20)
    assert r["status"] == "output_limit", r.brief()
    assert r["stderr_truncated"] is True and r["stdout_truncated"] is False, r.brief()
    assert len(r["stderr"]) == LIMITS["MAX_OUTPUT_SIZE"], len(r["stderr"])
    assert r.elapsed < 5, r.elapsed


def test_bounded_overflow_is_truncated(run):
    code = "import sys\nsys.stdout.write('B' * (%d + %d))\n" % (LIMITS["MAX_OUTPUT_SIZE"], 512 * 1024)
    r = run(code, timeout=10)
    assert r["stdout_truncated"] is True, r.brief()
    assert len(r["stdout"]) == LIMITS["MAX_OUTPUT_SIZE"], len(r["stdout"])
    assert r["status"] in ("ok", "output_limit"), r.brief()


def test_cpu_spin_times_out(server, run):
    r = run("while True:\n    pass\n", timeout=2)
    assert r["status"] == "timeout", r.brief()
    assert "超时" in r["error"], r["error"]
    assert r["error"] == "代码执行超时（2秒）", r["error"]
    assert r["success"] is False
    assert 1.9 <= r.elapsed < 5, r.elapsed
    assert r["cpu_time"] is None or r["cpu_time"] <= 2.5, r.brief()


def test_cpu_limit_caps_parallel_spinners(server, run):
    code = r"""
import os, time
for i in range(3):
    if os.fork() == 0:
        while True:
            pass
t = time.monotonic()
while time.monotonic() - t < 1.5:
    pass
"""
    r = run(code, timeout=10)
    assert r["status"] == "ok", r.brief()
    # 4 spinning processes for ~1.5 s under CPU_LIMIT=1: at most ~1.5 s of CPU in total.
    assert r["cpu_time"] <= 1.5 * LIMITS["CPU_LIMIT"] + 0.5, r.brief()


DAEMON = r"""
import os, signal, sys, time
M = %r
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    # The daemon: its own session, deaf to SIGTERM and SIGHUP (inherited by exec), marker in argv.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    os.closerange(0, 3)
    os.execv("/bin/sleep", [M, "120"])
os.waitpid(pid, 0)
for i in range(50):  # until the daemon is visible
    if any(M.encode() in open("/proc/%%s/cmdline" %% p, "rb").read()
           for p in os.listdir("/proc") if p.isdigit()):
        break
    time.sleep(0.02)
print("daemon started", flush=True)
%s
"""


def test_daemon_outliving_a_timed_out_run_is_killed(server, run, host_clean):
    m = marker("daemon")
    host_clean.append(m)
    r = run(DAEMON % (m, "time.sleep(60)"), timeout=2)
    assert r["status"] == "timeout", r.brief()
    assert r["stdout"] == "daemon started\n", r.brief()
    assert r.elapsed < 6, r.elapsed
    # host_clean: no process with the marker in its cmdline, no sandbox-uid process left.


def test_daemon_outliving_a_finished_run_is_killed(server, run, host_clean):
    m = marker("daemon")
    host_clean.append(m)
    r = run(DAEMON % (m, "sys.exit(0)"), timeout=5)
    assert r["status"] == "ok", r.brief()
    assert r["stdout"] == "daemon started\n", r.brief()
    assert r.elapsed < 4, r.elapsed  # the response does not wait for the daemon


def test_daemon_holding_the_output_pipe_does_not_hang_the_response(server, run, host_clean):
    m = marker("pipe")
    host_clean.append(m)
    code = r"""
import os, signal, sys
if os.fork() == 0:
    os.setsid()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.execv("/bin/sleep", [%r, "120"])  # keeps stdout/stderr (the pipes) open
print("parent done")
""" % m
    r = run(code, timeout=5)
    assert r["status"] == "ok" and r["stdout"] == "parent done\n", r.brief()
    assert r.elapsed < 4, r.elapsed


def test_runs_are_the_first_the_host_oom_killer_takes_and_cannot_change_that(run, server):
    """On host memory exhaustion the kernel kills runs (oom_score_adj 1000) before zygotes
    (500) and both before the server (0); a run cannot lower its score."""
    res = run("import errno\n"
              "print(open('/proc/self/oom_score_adj').read().strip())\n"
              "try:\n"
              "    open('/proc/self/oom_score_adj', 'w').write('-1000')\n"
              "    print('lowered')\n"
              "except OSError as e:\n"
              "    print(errno.errorcode[e.errno])\n"
              "print(open('/proc/self/oom_score_adj').read().strip())")
    assert res["stdout"].split() == ["1000", "EACCES", "1000"], res.brief()
    with open("/proc/%d/oom_score_adj" % server.pid) as f:
        assert f.read().strip() == "0"
    zygotes = [pid for pid, _ in server.baseline.zygote_processes()]
    assert zygotes
    for pid in zygotes:
        with open("/proc/%d/oom_score_adj" % pid) as f:
            assert f.read().strip() == "500", pid
