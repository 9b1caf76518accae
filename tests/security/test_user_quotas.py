"""Quotas the kernel keeps per user are per run: a run that uses one up leaves every other run,
the set-up of new sandboxes, the zygotes, the server and host root their own.

Each test starts an attacking run that exhausts one quota and then holds it (it names itself
with a marker the test waits for on the host), runs 8 victims at once meanwhile (more than the
prepared stock: the rest are set up while the attack holds), probes host root where the quota
used to be shared with it, and checks the server logged no failed set-up. The inventory they
cover is the table in docs/SECURITY.md, "Shared kernel resources".
"""

import errno

from quota_attack import SERVER_ENV  # noqa: F401 (this file's server: 9 runs at once)
from quota_attack import VICTIMS, hold_and_probe, host_python, run_shares


def test_fds_in_flight_are_per_run(server, host_clean):
    # Issue 21's attack: > NOFILE fds sent and never received. Every sandbox sends its `ready`
    # with two fds, and each victim sends one of its own.
    attack = r"""
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
fd = os.open("/dev/null", os.O_RDONLY)
sent, e = 0, None
for i in range(64):
    try:
        a.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bytes(memoryview(__import__("array").array("i", [fd] * 250))))])
        sent += 250
    except OSError as x:
        e = x.errno
        break
held(M, {"sent": sent, "errno": e})
"""
    probe = r"""
import array
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
a.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [0]))])
msg, anc, flags, addr = b.recvmsg(1, socket.CMSG_SPACE(4))
print(json.dumps(len(anc)))
"""
    attacked, outs, _ = hold_and_probe(server, host_clean, attack, probe)
    assert attacked["errno"] == errno.ETOOMANYREFS and attacked["sent"] >= 250, attacked
    assert outs == [1] * VICTIMS, outs


def test_inotify_instances_are_per_run(server, host_clean):
    attack = r"""
n = 0
while libc.inotify_init1(0) >= 0:
    n += 1
held(M, {"instances": n, "errno": err()})
"""
    probe = r"""
print(json.dumps("ok" if libc.inotify_init1(0) >= 0 else ctypes.get_errno()))
"""
    root_probe = "import ctypes, json; l = ctypes.CDLL(None, use_errno=True); " \
                 "print(json.dumps('ok' if l.inotify_init1(0) >= 0 else ctypes.get_errno()))"
    attacked, outs, root = hold_and_probe(server, host_clean, attack, probe,
                                          lambda: host_python(root_probe))
    assert outs == ["ok"] * VICTIMS, outs
    assert root == "ok", "host root could not create an inotify instance: %s" % root
    share = run_shares(server).get("inotify_instances_per_run")
    assert attacked == {"instances": share, "errno": errno.EMFILE}, (attacked, share)


def test_inotify_watches_are_per_run(server, host_clean):
    attack = r"""
paths = []
for d, _, files in os.walk("/usr/lib/python3"):
    paths += [os.path.join(d, f) for f in files]
    if len(paths) > 4000:
        break
n, e = 0, None
while e is None:
    fd = libc.inotify_init1(0)
    if fd < 0:
        e = err()
        break
    for p in paths:
        if libc.inotify_add_watch(fd, p.encode(), 0x2) < 0:  # IN_MODIFY
            e = err()
            break
        n += 1
held(M, {"watches": n, "errno": e})
"""
    probe = r"""
fd = libc.inotify_init1(0)
print(json.dumps([libc.inotify_add_watch(fd, p, 0x2) >= 0 for p in (b"/etc/passwd", b"/usr/bin")]))
"""
    attacked, outs, _ = hold_and_probe(server, host_clean, attack, probe)
    assert outs == [[True, True]] * VICTIMS, outs
    q = run_shares(server)
    assert attacked["watches"] <= q.get("inotify_watches_per_run", 0), (attacked, q)
    assert attacked["errno"] in (errno.ENOSPC, errno.EMFILE), attacked


def test_queued_signals_and_posix_timers_are_per_run(server, host_clean):
    # RLIMIT_SIGPENDING: real-time signals queued and not yet taken, and every POSIX timer (it
    # keeps one queued signal ready).
    attack = r"""
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGRTMIN])
n = 0
while libc.sigqueue(os.getpid(), signal.SIGRTMIN, 0) == 0:
    n += 1
held(M, {"queued": n, "errno": err(), "limit": __import__("resource").getrlimit(11)[0]})
"""
    probe = r"""
import signal
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGRTMIN])
timer = ctypes.c_void_p()
made = libc.timer_create(1, None, ctypes.byref(timer)) == 0  # CLOCK_MONOTONIC, SIGALRM
queued = libc.sigqueue(os.getpid(), signal.SIGRTMIN, 0) == 0
print(json.dumps([made, queued]))
"""
    root_probe = r"""
import ctypes, json, os, signal
l = ctypes.CDLL(None, use_errno=True)
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGRTMIN])
print(json.dumps("ok" if l.sigqueue(os.getpid(), signal.SIGRTMIN, 0) == 0 else ctypes.get_errno()))
os._exit(0)
"""
    attacked, outs, root = hold_and_probe(server, host_clean, attack, probe,
                                          lambda: host_python(root_probe))
    assert attacked["errno"] == errno.EAGAIN and attacked["queued"] == attacked["limit"], attacked
    assert outs == [[True, True]] * VICTIMS, outs
    assert root == "ok", "host root could not queue a signal: %s" % root


MQ = r"""
class Attr(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_long), ("maxmsg", ctypes.c_long), ("msgsize", ctypes.c_long),
                ("curmsgs", ctypes.c_long), ("pad", ctypes.c_long * 4)]
rt = ctypes.CDLL("librt.so.1", use_errno=True)
def mq(name):
    return rt.mq_open(name, os.O_CREAT | os.O_RDWR, 0o600, ctypes.byref(Attr(0, 1, 8192, 0)))
"""


def test_posix_message_queues_are_per_run(server, host_clean):
    attack = MQ + r"""
n = 0
while mq(b"/q%d" % n) >= 0:
    n += 1
held(M, {"queues": n, "errno": ctypes.get_errno()})
"""
    probe = MQ + r"""
print(json.dumps("ok" if mq(b"/victim") >= 0 else ctypes.get_errno()))
"""
    root_probe = "import ctypes, json, os\n" + MQ + r"""
fd = mq(b"/pysbx-sec-root-probe")
print(json.dumps("ok" if fd >= 0 else ctypes.get_errno()))
rt.mq_unlink(b"/pysbx-sec-root-probe")
"""
    attacked, outs, root = hold_and_probe(server, host_clean, attack, probe,
                                          lambda: host_python(root_probe))
    assert attacked["errno"] == errno.EMFILE and attacked["queues"] > 0, attacked
    assert outs == ["ok"] * VICTIMS, outs
    assert root == "ok", "host root could not open a message queue: %s" % root


def test_locked_shared_memory_is_per_run(server, host_clean):
    # RLIMIT_MEMLOCK counts SysV segments locked with SHM_LOCK against the user.
    lock = r"""
libc.shmget.restype = ctypes.c_int
def locked_segment(size):
    sid = libc.shmget(0, size, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
    return sid >= 0 and libc.shmctl(sid, 11, None) == 0  # SHM_LOCK
"""
    attack = lock + r"""
n = 0
while locked_segment(64 << 10):
    n += 1
held(M, {"segments": n, "errno": err()})
"""
    probe = lock + r"""
print(json.dumps("ok" if locked_segment(64 << 10) else ctypes.get_errno()))
"""
    attacked, outs, _ = hold_and_probe(server, host_clean, attack, probe)
    assert attacked["errno"] == errno.ENOMEM and attacked["segments"] > 0, attacked
    assert outs == ["ok"] * VICTIMS, outs


def test_pipe_buffers_are_per_run(server, host_clean):
    # fs.pipe-user-pages-soft: past it, a user's new pipes get one page and cannot grow.
    attack = r"""
import fcntl
pipes, e = [], None
while e is None:
    r, w = os.pipe()
    pipes.append((r, w))
    try:
        fcntl.fcntl(w, 1031, 1 << 20)  # F_SETPIPE_SZ
    except OSError as x:
        e = x.errno
held(M, {"mib": len(pipes) - 1, "errno": e})
"""
    probe = r"""
import fcntl
r, w = os.pipe()
print(json.dumps(fcntl.fcntl(w, 1031, 1 << 20)))
"""
    attacked, outs, _ = hold_and_probe(server, host_clean, attack, probe)
    assert attacked["errno"] == errno.EPERM and attacked["mib"] >= 32, attacked
    assert outs == [1 << 20] * VICTIMS, outs


def test_processes_are_per_run(server, host_clean):
    attack = r"""
kids, e = [], None
while e is None:
    try:
        pid = os.fork()
    except OSError as x:
        e = x.errno
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    kids.append(pid)
held(M, {"forked": len(kids), "errno": e})
"""
    probe = r"""
kids = [os.fork() for _ in range(4)]
if 0 in kids:
    os._exit(0)
print(json.dumps([os.waitpid(k, 0)[1] for k in kids]))
"""
    attacked, outs, _ = hold_and_probe(server, host_clean, attack, probe)
    assert attacked["errno"] == errno.EAGAIN and attacked["forked"] > 0, attacked
    assert outs == [[0, 0, 0, 0]] * VICTIMS, outs


def test_epoll_watches_are_per_run(server, host_clean):
    # fs.epoll.max_user_watches is far above what MEMORY_LIMIT lets one run hold (each watch is
    # kernel memory charged to the run): the attack stops at 200k, the victims still add theirs.
    attack = r"""
import select
socks = [socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) for _ in range(100)]
eps, n, e = [], 0, None
while n < 200000 and e is None:
    try:
        ep = select.epoll()
        eps.append(ep)
        for s in socks:
            ep.register(s.fileno(), select.EPOLLIN)
            n += 1
    except OSError as x:
        e = x.errno
held(M, {"watches": n, "errno": e})
"""
    probe = r"""
import select
ep = select.epoll()
socks = [socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) for _ in range(100)]
for s in socks:
    ep.register(s.fileno(), select.EPOLLIN)
print(json.dumps(len(socks)))
"""
    attacked, outs, _ = hold_and_probe(server, host_clean, attack, probe)
    assert attacked["watches"] > 0, attacked
    assert outs == [100] * VICTIMS, outs
