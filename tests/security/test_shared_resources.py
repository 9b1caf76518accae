"""Kernel resources that are not per user but shared by every run (and the host): those a run
cannot reach at all (namespaces, keys, fanotify, Linux AIO), and locks on the read-only files
all runs see, which it can hold (documented in docs/SECURITY.md, "Shared kernel resources")."""
import errno

from quota_attack import SERVER_ENV  # noqa: F401 (this file's server: 9 runs at once)
from quota_attack import VICTIM, VICTIMS, hold_and_probe


def test_namespaces_keys_and_fanotify_are_out_of_reach(run):
    # Quotas a run cannot take any of: it cannot create namespaces, keys or fanotify groups.
    code = r"""
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
out = {}
for name, flag in (("user", 0x10000000), ("mnt", 0x20000), ("pid", 0x20000000),
                   ("net", 0x40000000), ("ipc", 0x8000000), ("uts", 0x4000000),
                   ("cgroup", 0x2000000), ("time", 0x80)):
    out[name] = "made" if libc.unshare(flag) == 0 else ctypes.get_errno()
out["add_key"] = "made" if libc.syscall(248, b"user", b"k", b"v", 1, -3) >= 0 else ctypes.get_errno()
out["keyctl"] = "made" if libc.syscall(250, 1, -3, 0, 0, 0) >= 0 else ctypes.get_errno()  # JOIN_SESSION
out["request_key"] = "made" if libc.syscall(249, b"user", b"k", None, 0) >= 0 else ctypes.get_errno()
out["fanotify_init"] = "made" if libc.syscall(300, 0x200, os.O_RDONLY) >= 0 else ctypes.get_errno()
print(json.dumps(out))
"""
    res = run(code).result()
    assert res == {k: errno.EPERM for k in res} and len(res) == 12, res


def test_shared_read_only_files_can_be_locked_but_nothing_needs_them(server, host_clean):
    # Files every run sees (the stdlib, /etc, /dev/null) are the same inodes for all runs, and
    # flock() needs only read access: a run can lock them. Documented (docs/SECURITY.md): a
    # covert channel between concurrent runs, and a lock on a shared library file held until
    # the run ends. Nothing in a sandbox's set-up or in Python's start locks a file.
    attack = r"""
import fcntl, glob
held_fds, inodes = [], set()
for p in ["/etc/passwd", "/etc/ld.so.cache", "/dev/null"] + sorted(glob.glob("/usr/lib/python3.11/*.py"))[:150]:
    fd = os.open(p, os.O_RDONLY)
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) in inodes:  # hard links: one lock per file
        os.close(fd)
        continue
    inodes.add((st.st_dev, st.st_ino))
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    held_fds.append(fd)
held(M, {"locked": len(held_fds)})
"""
    probe = r"""
import fcntl, csv, decimal, pathlib, tempfile
fd = os.open("/usr/lib/python3.11/os.py", os.O_RDONLY)
try:
    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    shared = "free"
except OSError as e:
    shared = e.errno
print(json.dumps([shared, len(pathlib.Path("/etc/passwd").read_text()) > 0]))
"""
    attacked, outs, _ = hold_and_probe(server, host_clean, attack, probe)
    assert attacked["locked"] > 100, attacked
    assert outs == [[errno.EWOULDBLOCK, True]] * VICTIMS, outs
    # The locks end with the run that took them (its pid 1 closes its files as it exits, which
    # may take a few milliseconds after the answer).
    after = server.execute(VICTIM + r"""
import fcntl, time
fd = os.open("/usr/lib/python3.11/os.py", os.O_RDONLY)
end = time.monotonic() + 2
while True:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        break
    except BlockingIOError:
        assert time.monotonic() < end, "still locked"
        time.sleep(0.01)
print(json.dumps("locked"))
""", timeout=10)
    assert after.result() == "locked", after.brief()


def test_linux_aio_contexts_are_out_of_reach(run):
    # fs.aio-max-nr is one count for the whole host: a run reserving it all would leave every
    # other run, and any host process using Linux AIO (databases, QEMU), none.
    with open("/proc/sys/fs/aio-nr") as f:
        before = int(f.read())
    code = r"""
import ctypes, json
libc = ctypes.CDLL(None, use_errno=True)
ctx = ctypes.c_ulong(0)
print(json.dumps("made" if libc.syscall(206, 32768, ctypes.byref(ctx)) == 0 else ctypes.get_errno()))
"""
    assert run(code).result() == errno.EPERM
    with open("/proc/sys/fs/aio-nr") as f:
        assert int(f.read()) <= before
