"""The monitor (C): per run, unshares the run's namespaces, forks G, reports G's exit."""
import os
import signal
import socket

from . import protocol, run_child
from .syscalls import (CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS,
                       SetupError, unshare)

# Every run has a network namespace of its own: with egress, the server attaches a user-mode
# network stack to it after `ready`; without, it holds only loopback.
_NS = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET


def name_fds(names, fds):
    """Map the run message's `fds` names to the received fds: {"run": [fd], "cgroup": [...]}."""
    if not isinstance(names, list) or len(names) != len(fds):
        raise protocol.ProtocolError("fds names %r do not match %d fds" % (names, len(fds)))
    named = {"run": [], "stdout": [], "stderr": [], "cgroup": []}
    for name, fd in zip(names, fds):
        if name not in named:
            raise protocol.ProtocolError("unknown fd name %r" % name)
        named[name].append(fd)
    if [len(named[k]) for k in ("run", "stdout", "stderr")] != [1, 1, 1]:
        raise protocol.ProtocolError("need exactly one run, stdout and stderr fd")
    return named


def _exit_message(status, usage):
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    cpu = round(usage.ru_utime + usage.ru_stime, 6)
    return {"type": "exit", "exit_code": code, "signal": sig, "cpu_time": cpu}


def main(run, named, flt, inherited):
    """C's whole life, in the forked child of the zygote. Never returns."""
    status = 127
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # inherited SIG_IGN would auto-reap G
        protocol.close_all(inherited)
        sock = socket.socket(fileno=named["run"][0])
        try:
            unshare(_NS)
            pid = os.fork()
        except (SetupError, OSError) as e:
            protocol.send_error(sock, getattr(e, "step", "fork_run"), e.errno or 0,
                                getattr(e, "detail", str(e)))
            os._exit(127)
        if pid == 0:
            run_child.main(sock, run, named, flt)  # never returns
        protocol.close_all(named["stdout"] + named["stderr"] + named["cgroup"])
        _, wstatus, usage = os.wait4(pid, 0)
        protocol.send(sock, _exit_message(wstatus, usage))
        status = 0
    finally:
        os._exit(status)
