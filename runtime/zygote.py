"""Zygote: pre-imports PRELOAD modules, then forks one monitor per `run` on the control socket."""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # thread pools started at import would make fork unsafe
os.environ.setdefault("MPLBACKEND", "Agg")

import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I implies -P in 3.11

import gc  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402

from pysandbox_runtime import monitor, preload, protocol, runner, seccomp_load, setup_run  # noqa: E402

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
    ready = {"type": "ready", "python": preload.python_version(), "preloaded": loaded,
             "failed": failed, "packages": {} if cold else preload.packages(),
             "seccomp_instructions": flt.instructions}
    if threading.active_count() != 1:
        _log("warning: %d threads after preload; fork is unsafe" % threading.active_count())
    runner.prepare_stdio()
    gc.collect()
    gc.freeze()  # keep pre-imported objects out of the collector: fewer copy-on-write faults
    return ready


def _handle_run(msg, fds, flt, control):
    """Fork the monitor for one run; the zygote keeps none of the run's fds."""
    try:
        named = monitor.name_fds(msg.get("fds"), fds)
    except protocol.ProtocolError as e:
        _log("bad run message %r: %s" % (msg.get("id"), e))
        protocol.close_all(fds)
        return
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError as e:  # out of pids (RLIMIT_NPROC, pids cgroup) or memory: this run only
        _log("run %r: fork_monitor failed: %s" % (msg.get("id"), e))
        _report_on_run_socket(msg, named["run"][0], "fork_monitor", e)
        protocol.close_all(fds)
        return
    if pid == 0:
        try:
            monitor.main(msg, named, flt, [control.fileno(), FILTER_FD])
        finally:
            os._exit(127)
    protocol.close_all(fds)


def _report_on_run_socket(msg, run_fd, step, err):
    """Send the run's `error` message as its monitor would have; run_fd is left open."""
    sock = None
    try:
        sock = socket.socket(fileno=run_fd)
        protocol.send_error(sock, step, err.errno or 0, "monitor of run %s" % msg.get("id"))
    except (OSError, protocol.ProtocolError) as e:  # the server gave up on this run
        _log("run %r: cannot report %s: %s" % (msg.get("id"), step, e))
    finally:
        if sock is not None:
            sock.detach()  # closed with the run's other fds


def _serve(control, flt):
    while True:
        try:
            msg, fds = protocol.recv(control)
        except protocol.ProtocolError as e:
            _log("protocol error on control socket: %s" % e)
            continue
        if msg is None:
            return
        kind = msg["type"]
        if kind == "run":
            _handle_run(msg, fds, flt, control)
        elif kind == "ping":
            protocol.close_all(fds)
            protocol.send(control, {"type": "pong"})
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
    # The kernel reaps our exited children (monitors and, as pid 1, any orphan) at once. A
    # Python-level SIGCHLD handler would not: a signal landing just before the blocking recv
    # on the control socket leaves its handler pending, and the zombie, until the next message.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    _serve(control, flt)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    while True:  # EOF: no more runs; wait for the running ones (our exit would kill them)
        try:
            os.wait()
        except ChildProcessError:
            return 0


if __name__ == "__main__":
    sys.exit(main())
