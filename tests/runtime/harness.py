"""Test harness: a Python stand-in for the C++ spawner and server around the zygote.

Builds the documented base sandbox (user ns mapping 0 and 1000, mount/pid/net/ipc/uts ns,
read-only tmpfs root with /usr /etc binds, /opt/pysandbox, /proc, /dev, /tmp, /work), execs
`python3 -I -B /opt/pysandbox/zygote.py` with fd 3 = control socket, fd 4 = filter memfd, and
speaks the wire protocol of docs/ARCHITECTURE.md. Needs root.
"""
import ctypes
import json
import os
import select
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RUNTIME = os.path.normpath(os.path.join(HERE, "..", "..", "runtime"))
sys.path.insert(0, RUNTIME)
from pysandbox_runtime import protocol, runner  # noqa: E402
from pysandbox_runtime.syscalls import (CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS,  # noqa: E402
                                        CLONE_NEWPID, CLONE_NEWUTS, MS_BIND, MS_NODEV,
                                        MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC,
                                        MS_REMOUNT, mount, prctl, unshare)

UID_BASE = 100000  # host uid of the zygote's root; sandbox uid 1000 is UID_BASE + 1
CLONE_NEWUSER = 0x10000000
ALLOW_ALL = struct.pack("=HBBI", 0x06, 0, 0, 0x7FFF0000)  # BPF_RET|BPF_K SECCOMP_RET_ALLOW
_libc = ctypes.CDLL(None, use_errno=True)
DEFAULT_RUN = {"uid": 1000, "gid": 1000, "workdir_bytes": 16 << 20, "workdir_inodes": 1000,
               "tmp_bytes": 16 << 20, "nofile": 256, "fsize": 16 << 20, "as_bytes": 0,
               "policy": "standard"}


def can_run():
    """Why the harness cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (writes uid maps for another uid)"
    if not os.path.exists("/proc/self/ns/user"):
        return "needs user namespaces"
    return None


def _bind_ro(src, dst):
    mount(src.encode(), dst.encode(), None, MS_BIND | MS_REC, None, "bind")
    st = os.statvfs(src)
    locked = st.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC | 1024 | 2048)
    if st.f_flag & 4096:
        locked |= 1 << 21  # ST_RELATIME → MS_RELATIME
    mount(None, dst.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY | locked, None, "ro")


def _build_root(root):
    """In the new mount ns: the base sandbox root, then pivot_root into it."""
    mount(None, b"/", None, MS_REC | MS_PRIVATE, None, "private")
    mount(b"tmpfs", root.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=0755", "root")
    for d in ("usr", "etc", "opt/pysandbox", "proc", "dev/shm", "tmp", "work", "oldroot"):
        os.makedirs(os.path.join(root, d))
    for link, target in (("lib", "usr/lib"), ("lib64", "usr/lib64"), ("bin", "usr/bin"),
                         ("sbin", "usr/sbin")):
        os.symlink(target, os.path.join(root, link))
    _bind_ro("/usr", root + "/usr")
    _bind_ro("/etc", root + "/etc")
    _bind_ro(RUNTIME, root + "/opt/pysandbox")
    for dev in ("null", "zero", "full", "random", "urandom"):
        open(os.path.join(root, "dev", dev), "w").close()
        mount(("/dev/" + dev).encode(), ("%s/dev/%s" % (root, dev)).encode(), None, MS_BIND,
              None, "dev")
    mount(b"proc", (root + "/proc").encode(), b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None,
          "proc")
    mount(b"tmpfs", (root + "/tmp").encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=1777",
          "tmp")
    os.chdir(root)
    if _libc.syscall(155, b".", b"oldroot") != 0:  # SYS_pivot_root on x86_64
        raise OSError(ctypes.get_errno(), "pivot_root")
    if _libc.umount2(b"/oldroot", 2) != 0:  # MNT_DETACH
        raise OSError(ctypes.get_errno(), "umount oldroot")
    os.rmdir("/oldroot")
    os.chdir("/")
    mount(None, b"/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None, "ro")


def _exec_zygote(ctrl, memfd, log_fd, env):
    import fcntl
    hi_ctrl, hi_mem, hi_log = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
                               for fd in (ctrl, memfd, log_fd))
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(hi_log, 1)
    os.dup2(hi_log, 2)
    os.dup2(hi_ctrl, 3)
    os.dup2(hi_mem, 4)
    os.closerange(5, 1 << 16)
    prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the harness's holder process
    # As from a server started in the background by a shell (`pysandbox serve &`): ignored
    # dispositions survive execve, and the runs must not inherit them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)
    os.execve("/usr/bin/python3", ["/usr/bin/python3", "-I", "-B", "/opt/pysandbox/zygote.py"],
              env)


class Zygote:
    """One zygote in a fresh base sandbox; `run()` acts as the server for one run."""

    def __init__(self, preload="", mode="zygote", filter_bytes=ALLOW_ALL, log_path=None):
        self.control, child_ctrl = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        memfd = os.memfd_create("seccomp", 0)
        os.write(memfd, filter_bytes)
        self.log_path = log_path or tempfile.mktemp(prefix="zygote-log-")
        log_fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.root = tempfile.mkdtemp(prefix="pysbx-root-")
        env = {"PYSANDBOX_MODE": mode, "PYSANDBOX_PRELOAD": preload,
               "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp",
               "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/.matplotlib",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "NUMEXPR_NUM_THREADS": "1"}
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        self.holder = os.fork()
        if self.holder == 0:
            try:
                self.control.close()
                unshare(CLONE_NEWUSER)
                os.write(w1, b"u")
                os.read(r2, 1)
                os.setresgid(0, 0, 0)
                os.setresuid(0, 0, 0)
                unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
                pid = os.fork()
                if pid == 0:
                    _build_root(self.root)
                    _exec_zygote(child_ctrl.fileno(), memfd, log_fd, env)
                os.close(log_fd)
                child_ctrl.close()
                _, status = os.waitpid(pid, 0)
                os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
            except BaseException as e:
                os.write(log_fd, ("harness: %r\n" % (e,)).encode())
            finally:
                os._exit(126)
        os.read(r1, 1)
        for name in ("uid_map", "gid_map"):
            with open("/proc/%d/%s" % (self.holder, name), "w") as f:
                f.write("0 %d 1\n1000 %d 1\n" % (UID_BASE, UID_BASE + 1))
        os.write(w2, b"m")
        for fd in (r1, w1, r2, w2, memfd, log_fd):
            os.close(fd)
        child_ctrl.close()
        self.ready = self.recv_control(timeout=60)

    def recv_control(self, timeout=10):
        if not select.select([self.control], [], [], timeout)[0]:
            raise TimeoutError("no message from the zygote; log:\n" + self.log())
        msg, fds = protocol.recv(self.control)
        protocol.close_all(fds)
        if msg is None:
            raise EOFError("zygote closed the control socket; log:\n" + self.log())
        return msg

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def pid(self):
        """The zygote's host pid (the holder's only child)."""
        with open("/proc/%d/task/%d/children" % (self.holder, self.holder)) as f:
            return int(f.read().split()[0])

    def close(self, timeout=10):
        """EOF on the control socket; returns the holder's exit status."""
        self.control.close()
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                pid, status = os.waitpid(self.holder, os.WNOHANG)
                if pid:
                    return os.waitstatus_to_exitcode(status)
                time.sleep(0.01)
            os.kill(self.holder, signal.SIGKILL)
            os.waitpid(self.holder, 0)
            return None
        finally:
            # The mount point of the new root (mounts lived in the holder's namespace only).
            shutil.rmtree(self.root, ignore_errors=True)

    def run(self, code, files=None, kill_after=None, cgroup_fds=(), flush_wait=None, **fields):
        """Act as the server for one run; returns a dict of what came back.

        kill_after: the run's deadline in seconds (then SIGKILL through G's pidfd); with
        flush_wait, first the deadline signal, then up to flush_wait seconds for the runner's
        "flushed" on the end pipe (result["flushed"]), as the server does.
        """
        return Run(self, code, files or {}, kill_after, list(cgroup_fds), fields,
                   flush_wait).result

    def prepare(self, **fields):
        """A run taken up to its `ready` and held there; `.go(code)` runs it."""
        return Run(self, None, {}, None, [], fields)


class Run:
    """The server side of one run: run message, ready, writing main.py, go, output, exit."""

    def __init__(self, zygote, code, files, kill_after, cgroup_fds, fields, flush_wait=None):
        self.t0 = time.perf_counter()
        self.flush_wait = flush_wait
        self.end_early = b""  # what the end pipe held before the kill (flush_wait)
        sock, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        end_r, end_w = os.pipe()  # the runner's end report, as the server gets it
        msg = dict(DEFAULT_RUN, type="run", id="t%d" % time.monotonic_ns(),
                   fds=["run", "stdout", "stderr", "end"] + ["cgroup"] * len(cgroup_fds))
        msg.update(fields)
        protocol.send(zygote.control, msg, [child.fileno(), out_w, err_w, end_w] + cgroup_fds)
        child.close()
        protocol.close_all([out_w, err_w, end_w] + cgroup_fds)
        self.sock, self.out_r, self.err_r, self.end_r = sock, out_r, err_r, end_r
        self.result = {"messages": [], "stdout": b"", "stderr": b""}
        if code is None:  # held: prepared, waiting for go() like the server's stock
            self.ready = self._next_message(10)
            return
        self.ready = None
        self.go(code, files, kill_after)

    def go(self, code, files=None, kill_after=None):
        """Send the program of a held run (or run it at once) and collect the result."""
        try:
            self._drive(code, files or {}, kill_after)
            self.result["end"] = self.end_early + _read_all(self.end_r)  # G is reaped
        finally:
            protocol.close_all([self.out_r, self.err_r, self.end_r])
            self.sock.close()
        return self.result

    def _drive(self, code, files, kill_after):
        res = self.result
        ready = self.ready or self._next_message(10)
        res["t_ready_ms"] = (time.perf_counter() - self.t0) * 1e3
        if ready["type"] != "ready":
            res["exit"] = self._rest_until_exit()
            return
        pidfd, workfd, netfd = ready["_fds"]
        os.close(netfd)
        res["pidfd_ok"] = True
        _write_files(workfd, dict(files, **{"main.py": code}))
        res["workfd"] = workfd
        protocol.send(self.sock, {"type": "go"})
        t_go = time.perf_counter()
        deadline = None if kill_after is None else t_go + kill_after
        self._pump(pidfd, deadline)
        res["t_total_ms"] = (time.perf_counter() - self.t0) * 1e3
        res["t_go_to_exit_ms"] = (time.perf_counter() - t_go) * 1e3
        res["files"] = _read_tree(workfd)
        os.close(workfd)
        os.close(pidfd)

    def _next_message(self, timeout):
        if not select.select([self.sock], [], [], timeout)[0]:
            raise TimeoutError("no message on the run socket")
        msg, fds = protocol.recv(self.sock)
        if msg is None:
            return {"type": "EOF"}
        msg["_fds"] = fds
        self.result["messages"].append(msg)
        return msg

    def _rest_until_exit(self):
        while True:
            msg = self._next_message(10)
            if msg["type"] in ("exit", "EOF"):
                return msg

    def _pump(self, pidfd, deadline):
        """Read both pipes to EOF and the run socket until `exit` (SIGKILL at deadline)."""
        res, open_fds = self.result, {self.out_r: "stdout", self.err_r: "stderr"}
        sock_open = True
        while open_fds or sock_open:
            timeout = None if deadline is None else max(0, deadline - time.perf_counter())
            ready = select.select(list(open_fds) + ([self.sock] if sock_open else []), [], [],
                                  timeout if timeout is not None else 30)[0]
            if not ready:
                if deadline is not None:
                    if self.flush_wait is not None:
                        res["flushed"] = self._flush_before_kill(pidfd)
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                    res["killed"] = True
                    deadline = None
                    continue
                raise TimeoutError("run stuck: %r" % res)
            for fd in ready:
                if fd is self.sock:
                    msg = self._next_message(0)
                    if msg["type"] in ("exit", "EOF"):
                        res["exit"] = msg
                        sock_open = False
                    continue
                data = os.read(fd, 65536)
                if data:
                    res[open_fds[fd]] += data
                else:
                    del open_fds[fd]

    def _flush_before_kill(self, pidfd):
        """The deadline signal to G, then its "flushed" on the end pipe (True) or the wait's end."""
        signal.pidfd_send_signal(pidfd, runner.DEADLINE_SIGNAL)
        until = time.perf_counter() + self.flush_wait
        while runner.FLUSHED_REPORT not in self.end_early:
            left = until - time.perf_counter()
            if left <= 0 or not select.select([self.end_r], [], [], left)[0]:
                return False
            chunk = os.read(self.end_r, 4096)
            if not chunk:
                return False
            self.end_early += chunk
        return True


def _read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _write_files(workfd, files):
    """Create files through the work-dir fd as the sandbox user's host uid, like the server.

    The tmpfs belongs to the sandbox's user namespace: creating a file there with an fsuid
    that namespace does not map fails with EOVERFLOW, so fsuid/fsgid must be UID_BASE + 1.
    """
    _libc.setfsgid(UID_BASE + 1)
    _libc.setfsuid(UID_BASE + 1)
    try:
        for name, data in files.items():
            if isinstance(data, str):
                data = data.encode()
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=workfd)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
    finally:
        _libc.setfsuid(0)
        _libc.setfsgid(0)


def _read_tree(dirfd, prefix=""):
    out = {}
    for entry in os.listdir(dirfd):
        path = prefix + entry
        fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dirfd)
        try:
            if os.path.stat.S_ISDIR(os.fstat(fd).st_mode):
                out.update(_read_tree(fd, path + "/"))
            else:
                out[path] = os.read(fd, 1 << 24)
        finally:
            os.close(fd)
    return out


def summary(res):
    """A compact, JSON-able view of a run result for assertion messages."""
    view = {k: v for k, v in res.items() if k not in ("files",)}
    view["messages"] = [{k: v for k, v in m.items() if k != "_fds"} for m in res["messages"]]
    return json.dumps(view, default=repr)[:4000]
