"""The runner, run as a plain subprocess on a temp dir: output and exit status like `python3 main.py`."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import RUNTIME

PYTHON = "/usr/bin/python3"
RUNNER = os.path.join(RUNTIME, "pysandbox_runtime", "runner.py")


def run(tmp_path, code, timeout=30):
    (tmp_path / "main.py").write_text(textwrap.dedent(code), encoding="utf-8")
    p = subprocess.run([PYTHON, "-I", "-B", RUNNER], cwd=tmp_path, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def plain(tmp_path, code):
    """The reference: the same code under `python3 main.py`.

    Python 3.9+ names the script by its absolute path in tracebacks; the service (issue 4)
    names it `main.py`, so the reference's path is rewritten to compare the rest exactly.
    """
    (tmp_path / "main.py").write_text(textwrap.dedent(code), encoding="utf-8")
    p = subprocess.run([PYTHON, "main.py"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30)
    err = p.stderr.decode().replace('"%s"' % (tmp_path / "main.py"), '"main.py"')
    return p.returncode, p.stdout.decode(), err


def test_main_module_looks_like_a_script(tmp_path):
    rc, out, err = run(tmp_path, """
        import sys, os
        print(__name__, __file__, sys.argv, sys.path[0] == os.getcwd())
        print(sorted(k for k in globals() if not k.startswith("__")))
        print(sys.modules["__main__"].__dict__ is globals())
    """)
    assert (rc, err) == (0, "")
    assert out.splitlines() == ["__main__ main.py ['main.py'] True", "['os', 'sys']", "True"]


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
