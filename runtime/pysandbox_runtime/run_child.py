"""The run (G): pid 1 of the run's namespaces, forked by the zygote; set-up, `ready`, `go`, main.py."""
import ctypes
import os
import signal

from . import policy, privileges, protocol, runner, setup_run
from .syscalls import SetupError, prctl

_O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_MAX_FD = 1 << 20


_PR_SET_NAME = 15


# Built in the zygote: the names a run gives itself (comm, what the host sees).
_READY_NAME = ctypes.create_string_buffer(b"pysbx-ready")
_RUN_NAME = ctypes.create_string_buffer(b"python3")


def _set_name(buf):
    """Set the process name (comm) from a prebuilt buffer; cosmetic, failure is ignored."""
    try:
        prctl(_PR_SET_NAME, ctypes.addressof(buf))
    except SetupError:
        pass


def _keep_only_fds(keep):
    """Close every fd above 2 except those in keep (close_range(2) between them)."""
    low = 3
    for fd in sorted(set(keep)):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, _MAX_FD)


def _park_end_fd(end, nofile):
    """Move the end pipe (if any) to the highest fd RLIMIT_NOFILE allows, close-on-exec, out of
    the way of the program's own fds; returns its number, or None (no end report then)."""
    if not end:
        return None
    target = max(nofile - 1, 3)
    try:
        if end[0] != target:
            os.dup2(end[0], target, inheritable=False)
            os.close(end[0])
        return target
    except OSError:
        return None


def _send_ready(sock):
    # The network namespace goes as an fd: joining it through the pidfd would need ptrace
    # access to G, which after the privilege drop only CAP_SYS_PTRACE gives (the server keeps
    # no such capability under systemd or in a container).
    pidfd = os.pidfd_open(os.getpid())
    workfd = os.open("/work", _O_DIR)
    netfd = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        protocol.send(sock, protocol.run_ready_message(), [pidfd, workfd, netfd])
    finally:
        os.close(pidfd)
        os.close(workfd)
        os.close(netfd)


def _wait_go(sock):
    try:
        msg, fds = protocol.recv(sock)
    except (OSError, protocol.ProtocolError) as e:
        raise SetupError("wait_go", getattr(e, "errno", None) or 71, str(e)) from None
    protocol.close_all(fds)
    if msg is None:
        os._exit(127)  # the server went away before `go`: nothing to report to
    if msg["type"] != protocol.GO:
        raise SetupError("wait_go", 71, "unexpected %r" % msg["type"])  # EPROTO


# The run's whole environment. The zygote sets it once (set_run_environment) before its first
# fork, so a run starts with it: replacing it in every run cost ~0.5-1.3 ms of copy-on-write.
RUN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/work", "LANG": "C.UTF-8",
           "TMPDIR": "/tmp", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/.matplotlib",
           "PYTHONDONTWRITEBYTECODE": "1"}


def set_run_environment():
    """In the zygote, after its imports: os.environ becomes exactly RUN_ENV."""
    os.environ.clear()
    os.environ.update(RUN_ENV)


def _enter_work(stdout_fd, stderr_fd, stdin):
    """cwd /work, fd 0 the server's stdin pipe (else /dev/null), fds 1/2 the output pipes (the
    environment is RUN_ENV)."""
    os.chdir("/work")
    source = stdin[0] if stdin else os.open("/dev/null", os.O_RDONLY)
    if source != 0:
        os.dup2(source, 0)
        os.close(source)
    os.dup2(stdout_fd, 1)
    os.dup2(stderr_fd, 2)


def _read_and_check(sock, level):
    """main.py's source and ast; a policy violation is reported and ends the run with 0.

    The policy checks the bytes the runner compiles: those `python3 main.py` would (a null
    byte cuts its line short there, where ast.parse would refuse the whole file).
    """
    try:
        source = runner.plain_source(runner.read_source())
    except OSError:
        return None, None  # the runner reports the missing file like the interpreter does
    verdict, tree = policy.check(source, level)
    if verdict is not None:
        protocol.send(sock, protocol.policy_message(verdict))
        os._exit(0)
    return source, tree


def main(sock, run, named, flt):
    """G's life up to main.py: returns (code, globals) to exec and runner.finish(), or ends
    the run (set-up errors: an `error` message and _exit(127); a policy violation; a missing
    file or a SyntaxError, reported by the runner).

    Everything that does not depend on the program — mounts, privilege drop, seccomp, stdio,
    signal handling — happens before `go` is read (mounts and limits before `ready`, the rest
    right after it); the environment and the random states come ready from the zygote. A
    prepared run then pays only for reading and checking main.py when its request arrives.
    """
    try:
        # Forked straight from the zygote: drop its fds (control socket, filter, other runs'
        # sockets and pidfds, its namespace fds) before anything else.
        _keep_only_fds([fd for fds in named.values() for fd in fds])
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        # Own session and process group: every run of a zygote would otherwise share the
        # zygote's group, and kill(0, ...) or setpriority(PRIO_PGRP, 0, ...) reach a whole
        # process group across pid namespaces — other runs of the same uid included.
        os.setsid()
        setup_run.prepare(run, named["cgroup"])
        # Sent while still the zygote's uid: the fds in flight count against that uid's quota,
        # which no run can use up (not the run uid's, which an earlier run may have held).
        _send_ready(sock)
        privileges.set_rlimits(run)
        privileges.drop(run)
        flt.load()
        _enter_work(named["stdout"][0], named["stderr"][0], named["stdin"])
        runner.prepare_process()
        _set_name(_READY_NAME)  # shows a prepared run in ps and to the host checks
        _wait_go(sock)
        _set_name(_RUN_NAME)
        source, tree = _read_and_check(sock, run.get("policy", "standard"))
    except SetupError as e:
        _report(sock, e.step, e.errno, e.detail)
    except BaseException as e:  # a bug here must not run user code half set up
        _report(sock, "internal", 0, "%s: %s" % (type(e).__name__, e))
    sock.close()
    end_fd = _park_end_fd(named["end"], int(run.get("nofile", 256)))
    _keep_only_fds([] if end_fd is None else [end_fd])
    return runner.prepare(source, tree, end_fd=end_fd)


def _report(sock, step, err, detail):
    try:
        protocol.send_error(sock, step, err, detail)
    finally:
        os._exit(127)
