"""End to end without the C++ server: harness.py builds the base sandbox and plays the server."""
import errno
import os
import re
import resource
import signal
import socket
import statistics

import pytest

import harness
from pysandbox_runtime import protocol

pytestmark = pytest.mark.skipif(harness.can_run() is not None, reason=str(harness.can_run()))

RANDOM_CODE = """
import os, random, ssl, tempfile, uuid
import numpy
print(random.random(), numpy.random.rand(), uuid.uuid4(), os.urandom(8).hex(),
      next(tempfile._get_candidate_names()), ssl.RAND_bytes(8).hex())
"""


@pytest.fixture(scope="module")
def zygote():
    z = harness.Zygote(preload="numpy,pandas,matplotlib,requests,bs4")
    yield z
    assert z.close() == 0, z.log()


def ok(res):
    assert res.get("exit", {}).get("type") == "exit", harness.summary(res)
    return res


def test_ready_lists_python_and_packages(zygote):
    r = zygote.ready
    assert r["python"] == "3.11.2" or re.match(r"3\.\d+\.\d+$", r["python"])
    assert r["preloaded"] == ["numpy", "pandas", "matplotlib", "requests", "bs4"], r["failed"]
    for pkg in ("numpy", "pandas", "matplotlib", "requests", "bs4", "scipy", "PIL", "yaml",
                "kiwisolver"):
        assert re.match(r"\d+\.\d+", r["packages"][pkg]), (pkg, r["packages"])
    # Debian's kiwisolver metadata says 0.0.0: the module's own __version__ instead.
    assert "0.0.0" not in r["packages"].values(), r["packages"]


def test_print_run_and_timing(zygote):
    times = []
    for _ in range(15):
        res = ok(zygote.run('print("hi")'))
        assert res["stdout"] == b"hi\n" and res["stderr"] == b""
        assert res["exit"] == {"type": "exit", "exit_code": 0, "signal": None,
                               "cpu_time": res["exit"]["cpu_time"], "_fds": []}
        times.append(res["t_total_ms"])
    print("print run, harness end to end: median %.2f ms, min %.2f ms"
          % (statistics.median(times), min(times)))


def test_two_runs_differ_in_randomness(zygote):
    outs = [ok(zygote.run(RANDOM_CODE))["stdout"].split() for _ in range(2)]
    assert len(outs[0]) == 6
    for a, b in zip(*outs):
        assert a != b


def test_files_do_not_survive_a_run(zygote):
    res = ok(zygote.run("open('left.txt', 'w').write('x')\nopen('/tmp/t', 'w').write('y')"))
    assert res["files"]["left.txt"] == b"x"
    res = ok(zygote.run("import os; print(sorted(os.listdir('.')), os.listdir('/tmp'))"))
    assert res["stdout"] == b"['main.py'] []\n"


def test_run_is_isolated_pid1_without_privileges(zygote):
    res = ok(zygote.run("""
import os, socket
status = open('/proc/self/status').read()
print(os.getpid(), os.getresuid(), os.getgroups(), socket.gethostname())
print(sorted(p for p in os.listdir('/proc') if p.isdigit()))
print([l for l in status.splitlines() if l.startswith(('CapEff', 'CapBnd', 'NoNewPrivs', 'Seccomp:'))])
print(sorted(os.listdir('/proc/self/fd')))
"""))
    lines = res["stdout"].decode().splitlines()
    assert lines[0] == "1 (1000, 1000, 1000) [] sandbox"
    assert lines[1] == "['1']"  # not the zygote (pid 1 of the outer namespace)
    assert lines[2] == ["CapEff:\t0000000000000000", "CapBnd:\t0000000000000000",
                        "NoNewPrivs:\t1", "Seccomp:\t2"].__repr__()
    # 3 is listdir's own directory fd; 255 (RLIMIT_NOFILE - 1, close-on-exec) the end pipe
    assert lines[3] == "['0', '1', '2', '255', '3']"


def test_clean_main_and_environment(zygote):
    res = ok(zygote.run("""
import os, sys
print(__name__, __file__, sys.argv, os.getcwd(), sys.path[0])
print(sorted(os.environ.items()))
print('zygote' in repr(sys.modules['__main__'].__dict__.keys()), [k for k in globals() if not k.startswith('__')])
"""))
    lines = res["stdout"].decode().splitlines()
    assert lines[0] == "__main__ /work/main.py ['main.py'] /work /work"
    assert "('HOME', '/work')" in lines[1] and "PYSANDBOX" not in lines[1]
    assert lines[2] == "False ['os', 'sys']"


def test_traceback_syntax_error_and_exit_codes(zygote):
    res = ok(zygote.run("def f():\n    1/0\nf()"))
    assert res["stderr"].decode().startswith(
        'Traceback (most recent call last):\n  File "main.py", line 3, in <module>\n')
    assert res["exit"]["exit_code"] == 1
    res = ok(zygote.run("print(\n"))
    assert res["stderr"].startswith(b'  File "main.py", line 1\n')
    assert b"SyntaxError" in res["stderr"] and res["exit"]["exit_code"] == 1
    assert not [m for m in res["messages"] if m["type"] == "policy"]
    assert ok(zygote.run("import sys; sys.exit(42)"))["exit"]["exit_code"] == 42


def test_policy_violation_message(zygote):
    res = ok(zygote.run("import subprocess as sp\nsp.run(['true'])"))
    policy = [m for m in res["messages"] if m["type"] == "policy"]
    assert policy and policy[0]["message"] == (
        "Security policy violation: Dangerous module call detected: subprocess.run")
    assert res["stdout"] == res["stderr"] == b"" and res["exit"]["exit_code"] == 0
    res = ok(zygote.run("import subprocess\nprint(subprocess.run(['true']).returncode)",
                        policy="off"))
    assert not [m for m in res["messages"] if m["type"] == "policy"]


def test_partial_output_and_kill_through_pidfd(zygote):
    res = ok(zygote.run("import time\nprint('partial')\ntime.sleep(60)", kill_after=0.5))
    assert res["killed"] and res["stdout"] == b"partial\n"
    assert res["exit"]["signal"] == signal.SIGKILL and res["exit"]["exit_code"] is None


def test_loopback_is_up_and_no_other_network(zygote):
    res = ok(zygote.run("""
import socket
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()
c = socket.create_connection(s.getsockname()); print('lo ok')
print(sorted(n for _, n in socket.if_nameindex()))
""", policy="off"))
    assert res["stdout"] == b"lo ok\n['lo']\n", res["stderr"]


def test_pandas_and_matplotlib(zygote):
    res = ok(zygote.run("""
import pandas as pd, matplotlib.pyplot as plt
df = pd.DataFrame({'a': [1, 2]}); print(df['a'].sum())
df.plot(); plt.savefig('plot.png'); df.to_csv('data.csv', index=False)
"""))
    assert res["stdout"] == b"3\n", res["stderr"]
    assert res["files"]["plot.png"].startswith(b"\x89PNG") and res["files"]["data.csv"] == b"a\n1\n2\n"


def test_fsize_limit(zygote):
    res = ok(zygote.run("with open('big', 'wb') as f:\n    f.write(b'x' * 4096)", fsize=1024))
    assert b"File too large" in res["stderr"], harness.summary(res)
    assert len(res["files"]["big"]) <= 1024


def test_cgroup_fd_receives_zero(zygote, tmp_path):
    fake = tmp_path / "cgroup.procs"
    fake.write_bytes(b"")
    fd = os.open(fake, os.O_WRONLY)
    ok(zygote.run("print(1)", cgroup_fds=[fd]))
    assert fake.read_bytes() == b"0"


def test_setup_failure_reports_error(zygote):
    res = zygote.run("print(1)", workdir_inodes="bad")
    errors = [m for m in res["messages"] if m["type"] == "error"]
    assert errors and errors[0]["step"] == "internal", harness.summary(res)
    assert res["exit"]["exit_code"] == 127


def _pid_of_pidfd(fd):
    with open("/proc/self/fdinfo/%d" % fd) as f:
        return int(re.search(r"^Pid:\s+(-?\d+)", f.read(), re.M).group(1))


def _fd_targets(pid):
    d = "/proc/%d/fd" % pid
    return {int(n): os.readlink(os.path.join(d, n)) for n in os.listdir(d)}


def _foreign_fds(pid, fds):
    """fds of the zygote or of other runs; G's pidfd of itself and its own network namespace
    are its own (sent with `ready`: it may not have closed them yet when the server has it)."""
    foreign = []
    try:
        own_net = os.readlink("/proc/%d/ns/net" % pid)
    except OSError:
        own_net = None
    for fd, target in fds.items():
        if target == own_net:
            continue
        if "pidfd" in target:
            try:
                with open("/proc/%d/fdinfo/%d" % (pid, fd)) as f:
                    if _pid_re.search(f.read()).group(1) == str(pid):
                        continue
            except OSError:
                continue  # closed meanwhile
        if "pidfd" in target or target.startswith(("mnt:", "net:", "pid:", "ipc:", "uts:",
                                                   "/memfd")):
            foreign.append(target)
    return foreign


_pid_re = re.compile(r"^Pid:\s+(-?\d+)", re.M)


def test_a_run_holds_no_fd_of_the_zygote_or_of_other_runs(zygote):
    """G is forked straight from the zygote, which holds the control socket, the filter,
    its namespace fds and, for every run in flight, its run socket and pidfd. G must drop all
    of them before anything else: the second of two prepared runs holds one socket (its own)."""
    first = zygote.prepare()
    second = zygote.prepare()
    try:
        g2 = _pid_of_pidfd(second.ready["_fds"][0])
        fds = _fd_targets(g2)
        sockets = [t for t in fds.values() if t.startswith("socket:")]
        assert len(sockets) == 1, fds  # its own run socket
        assert not _foreign_fds(g2, fds), fds
        # The first run's socket reaches EOF once the zygote has reported it: nobody else (no
        # prepared run) holds a copy.
        mine = socket.socket(fileno=os.dup(first.sock.fileno()))
        res = first.go("print('first')")
        assert res["stdout"] == b"first\n" and res["exit"]["exit_code"] == 0, harness.summary(res)
        mine.settimeout(5)
        with mine:
            assert mine.recv(100) == b""  # EOF, not a timeout
    finally:
        res = second.go("print('second')")
    assert res["stdout"] == b"second\n", harness.summary(res)


def test_the_zygote_is_the_parent_and_returns_to_its_own_namespaces(zygote):
    zpid = zygote.pid()
    own = {n: os.readlink("/proc/%d/ns/%s" % (zpid, n)) for n in ("mnt", "net", "ipc", "uts", "pid")}
    held = zygote.prepare()
    try:
        g = _pid_of_pidfd(held.ready["_fds"][0])
        with open("/proc/%d/status" % g) as f:
            assert re.search(r"^PPid:\s+%d$" % zpid, f.read(), re.M), "G's parent is not the zygote"
        for n, link in own.items():
            assert os.readlink("/proc/%d/ns/%s" % (g, n)) != link, n  # G's are new
        assert os.readlink("/proc/%d/ns/pid_for_children" % zpid) == own["pid"]
    finally:
        held.go("pass")
    assert {n: os.readlink("/proc/%d/ns/%s" % (zpid, n)) for n in own} == own


@pytest.mark.parametrize("code, status", [
    ("print('done')", 0),
    ("import sys; print('x'); sys.exit(3)", 3),
    ("raise ValueError('boom')", 1),
    ("import sys; sys.exit('message')", 1),
    ("x = (", 1),  # SyntaxError
])
def test_the_runner_reports_the_end_after_its_last_output(zygote, code, status):
    res = zygote.run(code)
    assert res["exit"]["exit_code"] == status, harness.summary(res)
    assert res["end"] == protocol.end_status_record(status), harness.summary(res)


@pytest.mark.parametrize("code", ["import os; os._exit(0)", "import ctypes; ctypes.string_at(0)",
                                  "import os; os.close(255); print('closed')"])
def test_no_end_report_without_the_runner_s_own_end(zygote, code):
    """os._exit, a signal, or a program that closes the end pipe: the server then relies on
    the zygote's exit report alone."""
    res = zygote.run(code)
    assert res["end"] == b"", harness.summary(res)


def test_a_child_process_does_not_get_the_end_pipe_across_exec(zygote):
    res = ok(zygote.run("""
import os
pid = os.fork()
if pid == 0:
    os.execv('/bin/sh', ['sh', '-c', 'ls /proc/self/fd'])
os.waitpid(pid, 0)
"""))
    assert b"255" not in res["stdout"], res["stdout"]


def test_failed_fork_fails_that_run_only_and_the_zygote_keeps_serving(zygote):
    pid = zygote.pid()
    limits = resource.prlimit(pid, resource.RLIMIT_NPROC)
    resource.prlimit(pid, resource.RLIMIT_NPROC, (0, limits[1]))  # out of pids: fork fails
    try:
        res = zygote.run("print('never runs')")
    finally:
        resource.prlimit(pid, resource.RLIMIT_NPROC, limits)
    assert [{k: v for k, v in m.items() if k != "detail"} for m in res["messages"]] == [
        {"type": "error", "step": "fork_run", "errno": errno.EAGAIN, "_fds": []}
    ], harness.summary(res)
    assert res["exit"] == {"type": "EOF"}, harness.summary(res)  # the zygote closed the run's fds
    assert "fork_run failed" in zygote.log()
    assert zygote.pid() == pid, "the zygote died of a failed fork"
    assert ok(zygote.run("print('after')"))["stdout"] == b"after\n"


def test_bad_run_message_is_ignored_and_zygote_keeps_serving(zygote):
    r, w = os.pipe()
    protocol.send(zygote.control, {"type": "run", "fds": ["run"]}, [w, r])
    protocol.send(zygote.control, {"type": "bogus"})
    os.close(r)
    os.close(w)
    # (Was a ping; the protocol has none: a run after them shows the zygote serving.)
    assert ok(zygote.run("print('still serving')"))["stdout"] == b"still serving\n"


def test_eof_waits_for_running_children():
    z = harness.Zygote()
    sock, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    msg = dict(harness.DEFAULT_RUN, type="run", id="eof", fds=["run", "stdout", "stderr"])
    protocol.send(z.control, msg, [child.fileno(), out_w, err_w])
    protocol.close_all([child.fileno(), out_w, err_w])
    ready, fds = protocol.recv(sock)
    assert ready["type"] == "ready"
    z.control.shutdown(socket.SHUT_WR)  # EOF while the run is still waiting for `go`
    harness._write_files(fds[1], {"main.py": "print('still ran')"})
    protocol.send(sock, {"type": "go"})
    assert os.read(out_r, 100) == b"still ran\n"
    assert protocol.recv(sock)[0]["exit_code"] == 0
    assert z.close() == 0
    protocol.close_all(fds + [out_r, err_r])


def test_cold_mode_one_run():
    z = harness.Zygote(mode="cold")
    assert z.ready["packages"] == {} and z.ready["preloaded"] == []
    assert ok(z.run("print('cold')"))["stdout"] == b"cold\n"
    assert z.close() == 0


def test_address_space_limit(zygote):
    res = ok(zygote.run("x = bytearray(600 << 20)", as_bytes=512 << 20))
    assert res["stderr"].endswith(b"MemoryError\n") and res["exit"]["exit_code"] == 1


def test_a_file_never_closed_comes_back_flushed(zygote):
    res = ok(zygote.run("f = open('out.txt', 'w')\nf.write('hello')\nprint('done')"))
    assert res["files"]["out.txt"] == b"hello", harness.summary(res)
    assert res["end"] == protocol.end_status_record(0)


def test_std_streams_and_main_like_a_script(zygote):
    res = ok(zygote.run("""
import os, sys
print([s.errors for s in (sys.stdin, sys.stdout, sys.stderr)], type(__loader__).__name__,
      __annotations__)
print("\\udc80")
os.chdir(os.path.dirname(__file__))
sys.stderr.write("\\udc80\\n")
os.chdir("/")
1 / 0
"""))
    assert res["stdout"] == (b"['surrogateescape', 'surrogateescape', 'backslashreplace'] "
                             b"SourceFileLoader {}\n\x80\n"), harness.summary(res)
    assert res["stderr"].startswith(b"\\udc80\nTraceback (most recent call last):\n"
                                    b'  File "main.py", line 9, in <module>\n    1 / 0\n')


def test_text_left_in_a_replaced_stdout_and_a_closed_stdout(zygote):
    res = ok(zygote.run('import io, sys\nprint("lost?", end="")\nsys.stdout = io.StringIO()'))
    assert res["stdout"] == b"lost?" and res["end"] == protocol.end_status_record(0), harness.summary(res)
    res = ok(zygote.run('import sys\nprint("a")\nsys.stdout.close()'))
    assert res["stdout"] == b"a\n" and res["exit"]["exit_code"] == 0, harness.summary(res)


def test_signals_in_a_run_are_a_fresh_interpreter_s(zygote):
    """The server may run with SIGINT and SIGQUIT ignored (started in the background; the
    harness does the same), and the zygote ignores them: the program gets SIGINT raising
    KeyboardInterrupt and SIGQUIT at its default, and so do its children."""
    res = ok(zygote.run("""
import signal, subprocess
print([l for l in open('/proc/self/status').read().splitlines() if l.startswith('SigIgn')])
print(signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGQUIT))
print(subprocess.run(['grep', 'SigIgn', '/proc/self/status'], capture_output=True,
                     text=True).stdout, end='')
try:
    signal.raise_signal(signal.SIGINT)
except KeyboardInterrupt:
    print('KeyboardInterrupt')
""", policy="off"))
    assert res["stdout"].decode().splitlines() == [
        "['SigIgn:\\t0000000001001000']", "<built-in function default_int_handler> 0",
        "SigIgn:\t0000000000000000", "KeyboardInterrupt"], harness.summary(res)
    zygote_status = open("/proc/%d/status" % zygote.pid()).read()
    assert re.search(r"^SigIgn:\s+0*1001006$", zygote_status, re.M), zygote_status


def test_deadline_signal_flushes_partial_output_before_the_kill(zygote):
    """As the server does at the deadline: DEADLINE_SIGNAL to G, "flushed" on the end pipe,
    then SIGKILL; text without a newline is not lost."""
    res = ok(zygote.run('import sys, time\nprint("partial", end="")\nsys.stdout.write("x" * 5000)\n'
                        'sys.stderr.write("err")\ntime.sleep(60)', kill_after=1, flush_wait=5))
    assert res["flushed"] and res["killed"], harness.summary(res)
    assert res["stdout"] == b"partial" + b"x" * 5000 and res["stderr"] == b"err"
    assert res["end"] == protocol.end_record("flushed", b"") and res["exit"]["signal"] == signal.SIGKILL


def test_null_byte_source_is_read_like_the_interpreter_and_checked_by_the_policy(zygote):
    res = ok(zygote.run(b"print(1)\x00print(2)\n"))
    assert (res["stdout"], res["stderr"]) == (b"1\n", b""), harness.summary(res)
    # The policy sees the same bytes as the interpreter: the call after the null byte's line.
    res = ok(zygote.run(b"import subprocess as sp  # \x00\nx = 1\nsp.run(['true'])\n"))
    policy = [m for m in res["messages"] if m["type"] == "policy"]
    assert policy and policy[0]["message"].endswith("subprocess.run"), harness.summary(res)


def test_one_frame_above_main_py(zygote):
    """main.py's frame has one runner frame above it (python3 main.py: none), not the
    zygote's serving loop: print_stack, warnings and recursion depth are nearly a script's."""
    res = ok(zygote.run("""
import sys, traceback
traceback.print_stack()
print(sys._getframe().f_back.f_back is None)
def f(n):
    try:
        return f(n + 1)
    except RecursionError:
        return n
print(f(0), sys.getrecursionlimit())
"""))
    stack = [l for l in res["stderr"].decode().splitlines() if l.startswith("  File ")]
    assert len(stack) == 2 and stack[1] == '  File "main.py", line 3, in <module>', res["stderr"]
    assert res["stdout"] == b"True\n996 1000\n"  # python3 main.py: 998


def test_logging_handlers_of_the_run_are_flushed_at_exit(zygote):
    """The zygote drops its preloaded libraries' handlers from logging's shutdown list (they
    flush on every record); a handler the program makes is still flushed and closed at exit."""
    res = ok(zygote.run("""
import logging, logging.handlers, sys
h = logging.handlers.MemoryHandler(100, target=logging.StreamHandler(sys.stdout))
logging.getLogger().addHandler(h)
logging.getLogger().warning("buffered until shutdown")
print("end of program")
"""))
    assert res["stdout"] == b"end of program\nbuffered until shutdown\n", harness.summary(res)
