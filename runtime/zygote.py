"""Zygote: pre-imports PRELOAD modules, then forks one run (G) per `run` on the control socket."""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # thread pools started at import would make fork unsafe
os.environ.setdefault("MPLBACKEND", "Agg")

import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I implies -P in 3.11

import gc  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402

# The server stops its zygotes by EOF on the control socket; a terminal's ^C or ^\ must not
# kill them (and their runs) first. Runs restore both (runner._plain_signals).
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGQUIT, signal.SIG_IGN)

from pysandbox_runtime import (preload, protocol, reseed, run_child, runner,  # noqa: E402
                               seccomp_load, setup_run)
from pysandbox_runtime import runs as runs_mod  # noqa: E402
from pysandbox_runtime.syscalls import SetupError  # noqa: E402

CONTROL_FD = 3
FILTER_FD = 4


def _log(text):
    os.write(2, ("pysandbox zygote: %s\n" % text).encode(errors="backslashreplace"))


def _start(flt):
    setup_run.oom_first(500)  # after the runs (1000), before the server (0) on host OOM
    names = [n.strip() for n in os.environ.get("PYSANDBOX_PRELOAD", "").split(",") if n.strip()]
    loaded, failed = preload.preload(names)
    preload.warm_up(loaded)
    for name, err in failed.items():
        _log("preload %s failed: %s" % (name, err))
    cold = os.environ.get("PYSANDBOX_MODE") == "cold"
    ready = protocol.zygote_ready_message(preload.python_version(), loaded, failed,
                                          {} if cold else preload.packages(), flt.instructions)
    if threading.active_count() != 1:
        _log("warning: %d threads after preload; fork is unsafe" % threading.active_count())
    runner.prepare_in_zygote()
    run_child.set_run_environment()
    reseed.reseed()  # then again after every fork (runs.Runs.start)
    gc.collect()
    gc.freeze()  # keep pre-imported objects out of the collector: fewer copy-on-write faults
    return ready


def _handle_run(msg, fds, flt, runs):
    """Fork G for one run; the zygote keeps only the run socket (to report G's end)."""
    try:
        named = runs_mod.name_fds(msg.get("fds"), fds)
    except protocol.ProtocolError as e:
        _log("bad run message %r: %s" % (msg.get("id"), e))
        protocol.close_all(fds)
        return None
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pidfd = runs.start(msg, named, flt)  # in G: raises Forked, which skips what follows
    except SetupError as e:  # e.g. out of pids: this run fails, not the zygote
        _log("run %r: %s failed: %s" % (msg.get("id"), e.step, e.detail))
        if not runs_mod.report_error(named["run"][0], e.step, e.errno or 0, e.detail):
            _log("run %r: cannot report %s: the server is gone" % (msg.get("id"), e.step))
        protocol.close_all(named["run"])
        pidfd = None
    # Not in a `finally`: G needs these fds.
    protocol.close_all(named["stdout"] + named["stderr"] + named["end"] + named["cgroup"])
    return pidfd


def _serve(control, flt):
    """Runs arriving on the control socket and runs ending (pidfds), until EOF and no run is left."""
    runs = runs_mod.Runs()
    poller = select.poll()
    poller.register(control, select.POLLIN)
    open_control = True
    while open_control or runs.live:
        for fd, _ in poller.poll():
            if fd in runs.live:
                poller.unregister(fd)
                runs.reap(fd)
                continue
            try:
                msg, fds = protocol.recv(control)
            except protocol.ProtocolError as e:
                _log("protocol error on control socket: %s" % e)
                continue
            if msg is None:  # no more runs; the running ones are still reported
                poller.unregister(control)
                open_control = False
                continue
            kind = msg["type"]
            if kind == "run":
                pidfd = _handle_run(msg, fds, flt, runs)
                if pidfd is not None:
                    poller.register(pidfd, select.POLLIN)
            else:
                protocol.close_all(fds)
                _log("protocol error: unknown message type %r ignored" % kind)


def main():
    control = socket.socket(fileno=CONTROL_FD)
    try:
        flt = seccomp_load.read_filter(FILTER_FD)
    except (OSError, ValueError) as e:
        _log("cannot read the seccomp filter on fd %d: %s" % (FILTER_FD, e))
        return 1
    try:
        protocol.send(control, _start(flt))
    except OSError:  # the server gave up on us while we were preloading (e.g. client gone)
        return 0
    try:
        _serve(control, flt)
    except runs_mod.ZygoteBroken as e:  # our exit kills our runs (we are their pid namespace's init)
        _log("cannot return to the zygote's namespaces after a fork: %s" % e)
        return 70
    except runs_mod.Forked:
        control.detach()  # G closes the zygote's fds itself; a finalizer must not close fd 3 later
        raise
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except runs_mod.Forked as forked:
        _run, _named, _flt = forked.args
    # Only a run (G) gets here, the zygote's frames gone with the exception: main.py's frame
    # has this one above it and no other (`python3 main.py` has none), as in runner.py's own.
    try:
        _code, _globals = run_child.main(socket.socket(fileno=_named["run"][0]), _run, _named,
                                         _flt)
    except BaseException:  # a runtime bug: a run never goes through the zygote's own exit
        os._exit(127)
    _outcome = []
    try:
        exec(_code, _globals)
    except BaseException as _e:
        _outcome.append(_e)
    runner.finish(_outcome)
