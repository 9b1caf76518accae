"""The runner, run as a plain subprocess on a temp dir: output and exit status like `python3 main.py`."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import RUNTIME
from pysandbox_runtime import runner as runner_mod

PYTHON = "/usr/bin/python3"
RUNNER = os.path.join(RUNTIME, "pysandbox_runtime", "runner.py")
# The runs' environment (run_child.RUN_ENV without what only a sandbox has); not the caller's,
# which may hold e.g. PYTHONUNBUFFERED.
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}


def _write(tmp_path, code):
    if isinstance(code, bytes):
        (tmp_path / "main.py").write_bytes(code)
    else:
        (tmp_path / "main.py").write_text(textwrap.dedent(code), encoding="utf-8")


def _decode(data):
    return data.decode("utf-8", "surrogateescape")


def run(tmp_path, code, timeout=30, stdin=b"", **popen):
    """main.py (text, dedented, or bytes as they are) through the runner."""
    _write(tmp_path, code)
    p = subprocess.run([PYTHON, "-I", "-B", RUNNER], cwd=tmp_path, input=stdin, env=ENV,
                       capture_output=True, timeout=timeout, **popen)
    return p.returncode, _decode(p.stdout), _decode(p.stderr)


def plain(tmp_path, code, stdin=b""):
    """The reference: the same code under `python3 main.py`.

    Python 3.9+ names the script by its absolute path in tracebacks; the service (issue 4)
    names it `main.py`, so the reference's path is rewritten to compare the rest exactly.
    """
    _write(tmp_path, code)
    p = subprocess.run([PYTHON, "main.py"], cwd=tmp_path, input=stdin, env=ENV,
                       capture_output=True, timeout=30)
    err = _decode(p.stderr).replace('"%s"' % (tmp_path / "main.py"), '"main.py"')
    return p.returncode, _decode(p.stdout), err


def same_as_plain(tmp_path, code, stdin=b""):
    ours = run(tmp_path, code, stdin=stdin)
    assert ours == plain(tmp_path, code, stdin=stdin)
    return ours


def test_main_module_looks_like_a_script(tmp_path):
    rc, out, err = run(tmp_path, """
        import sys, os
        print(__name__, __file__, sys.argv, sys.path[0] == os.getcwd())
        print(sorted(k for k in globals() if not k.startswith("__")))
        print(sys.modules["__main__"].__dict__ is globals())
    """)
    assert (rc, err) == (0, "")
    assert out.splitlines() == ["__main__ %s ['main.py'] True" % (tmp_path / "main.py"),
                                "['os', 'sys']", "True"]


def test_main_globals_file_loader_and_annotations_like_the_interpreter(tmp_path):
    """__file__ is the absolute path (Python 3.9+), so the script can find its directory,
    while tracebacks still say File "main.py"; __loader__ and __annotations__ as in a script."""
    same_as_plain(tmp_path, """
        import os, sys
        print(list(globals()), __file__, __cached__, __spec__, __package__, __doc__)
        print(type(__loader__).__name__, __loader__.name, __loader__.path, __annotations__)
        print(__loader__.get_source("__main__").splitlines()[1], __builtins__)
        x: int = 1
        print(__annotations__)
        os.chdir(os.path.dirname(__file__))
        os.chdir("/")
        def f():
            return 1 / 0
        f()
    """)
    rc, _, err = run(tmp_path, "import os\nos.chdir('/')\n1 / 0\n")
    assert err.splitlines()[1:3] == ['  File "main.py", line 3, in <module>', "    1 / 0"]


def test_traceback_has_no_runner_frames(tmp_path):
    code = """
        def f():
            return 1 / 0
        f()
    """
    rc, out, err = run(tmp_path, code)
    assert rc == 1 and out == ""
    assert err == plain(tmp_path, code)[2]
    assert err.startswith('Traceback (most recent call last):\n  File "main.py", line 4, in <module>')
    assert "runner" not in err and "ZeroDivisionError: division by zero" in err


def test_chained_exception_like_the_interpreter(tmp_path):
    code = """
        try:
            {}["k"]
        except KeyError as e:
            raise ValueError("wrapped") from e
    """
    assert run(tmp_path, code) == plain(tmp_path, code)


def test_syntax_error_like_the_interpreter(tmp_path):
    code = "x = 1\nprint(\n"
    rc, out, err = run(tmp_path, code)
    assert (rc, out) == (1, "")
    assert err == plain(tmp_path, code)[2]
    assert err.startswith('  File "main.py", line 2\n') and "SyntaxError: " in err


@pytest.mark.parametrize("code,status,err", [
    ("import sys; sys.exit()", 0, ""),
    ("import sys; sys.exit(None)", 0, ""),
    ("import sys; sys.exit(3)", 3, ""),
    ("raise SystemExit(256 + 4)", 4, ""),
    ("import sys; sys.exit(-1)", 255, ""),
    ("import sys; sys.exit('bye')", 1, "bye\n"),
    ("raise SystemExit(['a'])", 1, "['a']\n"),
    ("import os; os._exit(7)", 7, ""),
    ("raise KeyboardInterrupt", 1, None),
])
def test_exit_status(tmp_path, code, status, err):
    rc, _, stderr = run(tmp_path, code)
    assert rc == status
    if err is not None:
        assert stderr == err
    assert (rc, stderr) == plain(tmp_path, code)[::2] or code.startswith("raise Keyboard")


def test_os_exit_skips_atexit_but_keeps_flushed_output(tmp_path):
    rc, out, err = run(tmp_path, """
        import atexit, os
        atexit.register(print, "atexit")
        print("before")
        os._exit(5)
    """)
    assert (rc, out) == (5, "before\n")


def test_input_gets_eof(tmp_path):
    rc, out, _ = run(tmp_path, """
        try:
            input("prompt> ")
        except EOFError:
            print("EOF")
    """)
    assert (rc, out) == (0, "prompt> EOF\n")


def test_non_daemon_thread_is_joined_then_atexit_runs(tmp_path):
    rc, out, _ = run(tmp_path, """
        import atexit, threading, time
        atexit.register(lambda: print("atexit"))
        def work():
            time.sleep(0.2)
            print("thread done")
        threading.Thread(target=work).start()
        print("main done")
    """)
    assert (rc, out) == (0, "main done\nthread done\natexit\n")


def test_atexit_runs_after_exception(tmp_path):
    rc, out, err = run(tmp_path, """
        import atexit
        atexit.register(print, "cleanup")
        raise RuntimeError("boom")
    """)
    assert (rc, out) == (1, "cleanup\n") and "RuntimeError: boom" in err


def test_unicode_and_bad_surrogates(tmp_path):
    rc, out, err = run(tmp_path, """
        import sys
        print("héllo ✓ 你好")
        sys.stderr.write("bad \\udcff\\n")
    """)
    assert (rc, out) == (0, "héllo ✓ 你好\n") and err == "bad \\udcff\n"


def test_std_streams_like_the_interpreter(tmp_path):
    """LANG=C.UTF-8: stdin and stdout surrogateescape (undecodable bytes pass through), stderr
    backslashreplace; names, modes and reprs as the interpreter's own streams."""
    code = r"""
        import sys
        for s in (sys.stdin, sys.stdout, sys.stderr):
            print(repr(s), s.errors, s.encoding, repr(s.buffer), repr(s.buffer.raw), s.mode)
        print("\udc80 \udcff")
        print(ascii(sys.stdin.read()))
        sys.stderr.write("\udc80\n")
    """
    rc, out, err = same_as_plain(tmp_path, code, stdin=b"caf\xe9\r\n")
    assert "\udc80 \udcff\n'caf\\udce9\\r\\n'\n" in out and err == "\\udc80\n"
    p = subprocess.run([PYTHON, "-I", "-B", RUNNER], cwd=tmp_path, env=ENV, input=b"",
                       capture_output=True)
    assert b"\x80 \xff\n" in p.stdout


def test_partial_output_survives_sigkill(tmp_path):
    (tmp_path / "main.py").write_text("import time\nprint('partial')\ntime.sleep(60)\n")
    p = subprocess.Popen([PYTHON, "-I", "-B", RUNNER], cwd=tmp_path, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = p.stdout.readline()  # arrives only because stdout is line-buffered
    p.send_signal(signal.SIGKILL)
    p.wait(10)
    assert line == b"partial\n" and p.returncode == -signal.SIGKILL


def test_missing_main_py(tmp_path):
    p = subprocess.run([PYTHON, "-I", "-B", RUNNER], cwd=tmp_path, capture_output=True,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 2 and b"can't open file" in p.stderr


def test_user_excepthook_is_used(tmp_path):
    rc, _, err = run(tmp_path, """
        import sys
        sys.excepthook = lambda t, v, tb: sys.stderr.write("hook %s\\n" % t.__name__)
        raise ValueError
    """)
    assert (rc, err) == (1, "hook ValueError\n")


FILES_LEFT_OPEN = """
import json
f = open("left_open.txt", "w")
f.write("hello")
g = open("printed.txt", "w")
print("line", file=g)
json.dump({"a": 1}, open("dumped.json", "w"))
class Holder:
    def __del__(self):
        print("finalized")
h = Holder()
"""


def test_files_left_open_are_flushed_like_at_interpreter_exit(tmp_path):
    """`python3 main.py` flushes files a program never closed when it drops __main__'s globals
    at exit; the runner, which ends with _exit, must do the same."""
    ref = tmp_path / "ref"
    ours = tmp_path / "ours"
    ref.mkdir()
    ours.mkdir()
    expected = plain(ref, FILES_LEFT_OPEN)
    assert run(ours, FILES_LEFT_OPEN) == expected
    for name in ("left_open.txt", "printed.txt", "dumped.json"):
        assert (ours / name).read_bytes() == (ref / name).read_bytes(), name
    assert (ours / "left_open.txt").read_bytes() == b"hello"
    assert expected[1] == "finalized\n"


@pytest.mark.parametrize("code", [
    # Text still buffered in the original stdout when the program replaced it: flushed.
    'import io, sys\nprint("lost?", end="")\nsys.stdout = io.StringIO()\n',
    'import sys\nprint("kept", end="")\nsys.stdout = open("other.txt", "w")\nprint("in file")\n',
    # A closed stdout is skipped, not a failure (status 0).
    'import sys\nprint("a")\nsys.stdout.close()\n',
    'import sys\nprint("a", end="")\nsys.stdout.close()\nprint("b", file=sys.stderr)\n',
    'import sys\nsys.stdout = None\n',
    # A flush that fails: reported as unraisable, status 120 whatever the program's.
    'import os\nprint("x", end="")\nos.close(1)\n',
    'import os, sys\nprint("x", end="")\nos.close(1)\nsys.exit(3)\n',
    'import sys\nclass Out:\n    def write(self, s):\n        return len(s)\n'
    '    def flush(self):\n        raise OSError(5, "flush failed")\n'
    '    def __repr__(self):\n        return "<Out>"\nsys.stdout = Out()\n',
    # __del__ at exit prints to the original stdout.
    'import io, sys\nclass D:\n    def __del__(self):\n        print("del", end="")\n'
    'd = D()\nsys.stdout = io.StringIO()\n',
])
def test_exit_flushing_like_the_interpreter(tmp_path, code):
    same_as_plain(tmp_path, code)


@pytest.mark.parametrize("code", [
    'import sys\ndef hook(t, v, tb):\n    raise RuntimeError("in hook")\n'
    'sys.excepthook = hook\nraise ValueError("orig")\n',
    'import sys\ndef hook(t, v, tb):\n    try:\n        {}[1]\n    except KeyError:\n'
    '        raise RuntimeError("in hook")\nsys.excepthook = hook\nraise ValueError("orig")\n',
    'import sys\nsys.excepthook = None\nraise ValueError("orig")\n',
    'import sys\ndel sys.excepthook\nraise ValueError("orig")\n',
    'import sys\nsys.excepthook = lambda *a: sys.exit(5)\nraise ValueError("orig")\n',
    'import atexit, sys\natexit.register(lambda: print(type(sys.last_value).__name__))\n'
    'raise ValueError("orig")\n',
])
def test_failing_excepthook_like_the_interpreter(tmp_path, code):
    same_as_plain(tmp_path, code)


def _ignore_int_quit():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)


def test_signals_like_a_fresh_interpreter(tmp_path):
    """Started with SIGINT and SIGQUIT ignored (a server started in the background), the
    program still gets the handling of `python3 main.py` from a shell, and so do its children."""
    code = """
        import signal, subprocess
        status = open("/proc/self/status").read()
        print([l for l in status.splitlines() if l.startswith(("SigIgn", "SigBlk"))])
        print(signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGQUIT),
              signal.getsignal(signal.SIGHUP))
        print(subprocess.run(["grep", "SigIgn", "/proc/self/status"], capture_output=True,
                             text=True).stdout)
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            print("KeyboardInterrupt")
    """
    expected = plain(tmp_path, code)
    assert expected[1].endswith("SigIgn:\t0000000000000000\n\nKeyboardInterrupt\n"), expected
    assert run(tmp_path, code, preexec_fn=_ignore_int_quit) == expected


def test_deadline_signal_flushes_partial_output(tmp_path):
    """At the deadline the server sends DEADLINE_SIGNAL: text without a newline still buffered
    in stdout and stderr is written out before the kill."""
    (tmp_path / "main.py").write_text(
        'import sys, time\nprint("ready", flush=True)\nprint("partial", end="")\n'
        'sys.stdout.write("x" * 5000)\nsys.stderr.write("err")\ntime.sleep(60)\n')
    p = subprocess.Popen([PYTHON, "-I", "-B", RUNNER], cwd=tmp_path, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    try:
        assert p.stdout.readline() == b"ready\n"
        time.sleep(0.2)  # the program is in its sleep
        p.send_signal(runner_mod.DEADLINE_SIGNAL)
        time.sleep(0.5)
    finally:
        p.kill()
    out, err = p.communicate(timeout=10)
    assert (out, err) == (b"partial" + b"x" * 5000, b"err")


@pytest.mark.parametrize("code", [
    b"print(1)\x00print(2)\n",
    b"x = 2\x00\n+ 3\nprint(x)\n",
    b"x = 2\x00abc\n+ 3\nprint(x)\n",
    b"print(1)\n\x00\nprint(3)\n",
    b"x = 1\x00\x00\n\n+2\nprint(x)\n",
    b'x = """a\x00b\nc"""\nprint(repr(x))\n',
    b"x = 2\x00\r\n+ 3\r\nprint(x)\r\n",
    b"x = 2\x00\r+ 3\rprint(x)\r",
    b"\xef\xbb\xbfx = 2\x00\n+ 3\nprint(x)\n",
    b"# coding: utf-8\nx = 2\x00\n+ 3\nprint(x)\n",
    b"x = 2\x00\n+ 3\n1/0\n",
    b"\x00",
    b"print(1)\nprint(2)\x00\nprint(3)\n",
    b"print(1)\nprint(2)\x00xyz\nprint(3)\n",
    b'x = "a\x00b"\nprint(x)\n',
    b"def f(:\x00\n",
])
def test_null_bytes_like_the_interpreter(tmp_path, code):
    """3.11 reads a script's lines up to a null byte (the rest of the line is lost)."""
    same_as_plain(tmp_path, code)


FRAMES = """
import sys, traceback, warnings
traceback.print_stack()
print(sys._getframe().f_back is None or sys._getframe().f_back.f_back is None)
def f(n):
    try:
        return f(n + 1)
    except RecursionError:
        return n
print(f(0))
"""


def test_one_runner_frame_above_main(tmp_path):
    """`python3 main.py` has no frame above main.py's; the runner keeps one (its top level)."""
    rc, out, err = run(tmp_path, FRAMES)
    stack = [line for line in err.splitlines() if line.startswith("  File ")]
    assert len(stack) == 2 and stack[1] == '  File "main.py", line 3, in <module>', err
    lines = out.splitlines()
    assert lines[0] == "True"
    assert int(plain(tmp_path, FRAMES)[1].splitlines()[1]) - int(lines[1]) <= 2
