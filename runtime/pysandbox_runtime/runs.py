"""The zygote's runs: each forked straight into fresh namespaces as their pid 1 (G), watched
through a pidfd, its end reported on its run socket once the kernel has reaped it.

No process stands between the zygote and G: the zygote unshares the run's namespaces itself,
forks, and returns to its own at once. A monitor process per run (a second fork and exit of
the whole interpreter) cost more CPU than everything else a run does (measured in
bench/README.md, "One fork per run").
"""
import os
import signal
import socket

from . import protocol, reseed
from .syscalls import (CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS,
                       SetupError, setns, unshare)

# Every run has a network namespace of its own: with egress, the server attaches a user-mode
# network stack to it after `ready`; without, it holds only loopback.
_NS = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET
# The zygote's own namespaces, entered again after each fork. The pid entry resets the
# namespace the zygote's *next* child is born into (unshare changes only that one).
_OWN = ((CLONE_NEWNS, "mnt"), (CLONE_NEWNET, "net"), (CLONE_NEWIPC, "ipc"),
        (CLONE_NEWUTS, "uts"), (CLONE_NEWPID, "pid"))
_O_NS = os.O_RDONLY | os.O_CLOEXEC


class ZygoteBroken(Exception):
    """The zygote could not return to its own namespaces: it must exit (the server replaces it)."""


class Forked(BaseException):
    """Raised in G right after the fork, with args (run message, named fds, filter): G leaves
    the zygote's frames for its top level, where it runs (zygote.py), so that main.py's frame
    has a single frame above it. Nothing on the way may catch it or act as the zygote."""


def name_fds(names, fds):
    """Map the run message's `fds` names to the received fds: {"run": [fd], "cgroup": [...]}."""
    if not isinstance(names, list) or len(names) != len(fds):
        raise protocol.ProtocolError("fds names %r do not match %d fds" % (names, len(fds)))
    named = {"run": [], "stdout": [], "stderr": [], "end": [], "stdin": [], "cgroup": []}
    for name, fd in zip(names, fds):
        if name not in named:
            raise protocol.ProtocolError("unknown fd name %r" % name)
        named[name].append(fd)
    if ([len(named[k]) for k in ("run", "stdout", "stderr")] != [1, 1, 1]
            or len(named["end"]) > 1 or len(named["stdin"]) > 1):
        raise protocol.ProtocolError(
            "need exactly one run, stdout and stderr fd, at most one end and one stdin")
    return named


def exit_message(status, usage):
    """The run's `exit` report from wait4's status and rusage (G and what it reaped)."""
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    cpu = round(usage.ru_utime + usage.ru_stime, 6)
    return protocol.exit_message(code, sig, cpu)


def report_error(run_fd, step, err, detail):
    """Send a run's `error` on its socket; run_fd stays open. False if the server is gone."""
    sock = socket.socket(fileno=run_fd)
    try:
        protocol.send_error(sock, step, err, detail)
        return True
    except (OSError, protocol.ProtocolError):
        return False
    finally:
        sock.detach()


class _Live:
    __slots__ = ("pid", "run_fd", "mnt_fd")

    def __init__(self, pid, run_fd, mnt_fd):
        self.pid, self.run_fd, self.mnt_fd = pid, run_fd, mnt_fd


class Runs:
    """The runs a zygote has forked and not yet reported: {pidfd: _Live}."""

    def __init__(self):
        self._own = [(flag, os.open("/proc/self/ns/" + name, _O_NS)) for flag, name in _OWN]
        self.live = {}

    def start(self, run, named, flt):
        """Fork G for `run` in new namespaces and return its pidfd. SetupError if the run could
        not be started (this run only); ZygoteBroken if the zygote cannot go on. The run's
        fds are left to the caller; from here on the zygote keeps only the run socket.
        In G, raises Forked."""
        unshare(_NS)  # all or nothing: on failure nothing changed
        try:
            # Held until the exit report is sent: the run's mounts are torn down when we close
            # it, not on G's exit path, which that report waits for.
            mnt_fd = os.open("/proc/self/ns/mnt", _O_NS)
        except OSError as e:
            self._return_home()
            raise SetupError("unshare", e.errno or 0, "run mount namespace") from None
        try:
            pid = os.fork()
        except OSError as e:  # out of pids (RLIMIT_NPROC, pids cgroup) or memory
            self._return_home()
            os.close(mnt_fd)
            raise SetupError("fork_run", e.errno or 0, str(e)) from None
        if pid == 0:
            raise Forked(run, named, flt)
        self._return_home()
        # The next run must not share this one's random states: fresh ones now, in the
        # zygote's own pages (in G, after the fork, the same work cost ~5 ms of copy-on-write
        # faults with the full zygote, OpenSSL's reseed above all).
        reseed.reseed()
        try:
            pidfd = os.pidfd_open(pid)
        except OSError as e:  # out of fds: we could not tell when G ends
            os.kill(pid, signal.SIGKILL)  # still our unreaped child: its pid cannot be reused
            os.waitpid(pid, 0)
            os.close(mnt_fd)
            raise SetupError("fork_run", e.errno or 0, "pidfd_open: %s" % e) from None
        self.live[pidfd] = _Live(pid, named["run"][0], mnt_fd)
        return pidfd

    def reap(self, pidfd):
        """G has ended (its pidfd is readable): reap it, report, release the run's fds."""
        live = self.live.pop(pidfd)
        _, status, usage = os.wait4(live.pid, 0)
        os.close(pidfd)
        sock = socket.socket(fileno=live.run_fd)
        try:
            protocol.send(sock, exit_message(status, usage))
        except OSError:
            pass  # the server gave up on this run
        finally:
            sock.close()
            os.close(live.mnt_fd)

    def _return_home(self):
        for flag, fd in self._own:
            try:
                setns(fd, flag)
            except OSError as e:
                raise ZygoteBroken(str(e)) from None
