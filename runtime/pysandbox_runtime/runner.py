"""Runs /work/main.py like `python3 main.py` does: clean __main__, same output and exit codes."""
import atexit
import builtins
import gc
import io
import os
import sys
import types

_FILENAME = "main.py"
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_RUNTIME_DIR = os.path.dirname(_PACKAGE_DIR)


_prepared_stdio = None


def prepare_stdio():
    """Build the runs' sys.std* objects once in the zygote, unused there.

    They only name fds 0/1/2, which each run points at its own /dev/null and pipes. Built
    before fork, a run saves ~0.3 ms of copy-on-write faults that building them costs after.
    """
    global _prepared_stdio
    _prepared_stdio = _new_stdio()


def _new_stdio():
    """stdin, stdout, stderr on fds 0/1/2: UTF-8, stdout line-buffered, stderr backslashreplace."""
    out = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)),
                           encoding="utf-8", errors="strict", line_buffering=True)
    err = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
                           encoding="utf-8", errors="backslashreplace", line_buffering=True)
    inp = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)),
                           encoding="utf-8", errors="strict")
    return inp, out, err


def _reset_stdio():
    global _prepared_stdio
    inp, out, err = _prepared_stdio or _new_stdio()
    _prepared_stdio = None
    sys.stdin = sys.__stdin__ = inp
    sys.stdout = sys.__stdout__ = out
    sys.stderr = sys.__stderr__ = err


def _fresh_main(workdir):
    """Replace sys.modules['__main__'] with an empty module that looks like a script's."""
    main = types.ModuleType("__main__")
    main.__file__ = _FILENAME
    main.__cached__ = None
    main.__builtins__ = builtins
    main.__loader__ = None
    sys.modules["__main__"] = main
    sys.argv = [_FILENAME]
    sys.orig_argv = ["python3", _FILENAME]
    # Like `python3 main.py`: the script's directory first, the runtime's own dirs gone.
    sys.path[:] = [workdir] + [p for p in sys.path if p not in (_RUNTIME_DIR, _PACKAGE_DIR)]
    return main


def _print_exception(exc, skip_frames):
    """Print exc as the interpreter would, without the runner's own frames."""
    tb = exc.__traceback__
    for _ in range(skip_frames):
        if tb is not None:
            tb = tb.tb_next
    exc.__traceback__ = tb
    try:
        sys.excepthook(type(exc), exc, tb)
    except BaseException:  # a broken user excepthook: fall back like CPython does
        sys.__excepthook__(type(exc), exc, tb)


def _exit_status(exc):
    """CPython's handling of SystemExit: None → 0, int → n, other → printed and 1."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(str(code) + "\n")
    except BaseException:
        pass
    return 1


_end_fd = None  # the end pipe: "end N\n" tells the server the program is over (see _finalize)


def _finalize(status):
    """Wait for non-daemon threads, run atexit handlers, flush, report the end, _exit(status).

    The end report lets the server answer while this process is still exiting (its memory
    teardown takes milliseconds for a large zygote). It comes after the last flush, so the
    output pipes already hold everything. The program can write or close that fd itself: it
    then only ends its own run early, or leaves it to the exit report.
    """
    threading = sys.modules.get("threading")
    if threading is not None:
        try:
            threading._shutdown()
        except BaseException as e:
            status = _handle(e, 0, status)
    atexit._run_exitfuncs()
    _release_main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            if stream is sys.stdout and status == 0:
                status = 120  # CPython's status when flushing stdout fails at exit
    if _end_fd is not None:
        try:
            os.write(_end_fd, b"end %d\n" % (status & 0xFF))
        except OSError:
            pass
    os._exit(status)


def _release_main():
    """What the interpreter's shutdown does before it exits: drop __main__'s globals and
    collect, so that objects only they held are finalized. A file the program never closed is
    flushed then (`f = open(...); f.write(...)` at the top level); _exit alone would lose it."""
    main = sys.modules.get("__main__")
    try:
        if main is not None:
            main.__dict__.clear()
        gc.collect()
    except BaseException:  # a failing __del__ is reported by the interpreter itself
        pass


def _handle(exc, skip_frames, default=1):
    if isinstance(exc, SystemExit):
        return _exit_status(exc)
    _print_exception(exc, skip_frames)
    return default


def read_source(path=_FILENAME):
    """main.py's bytes with plain os calls (cheaper after fork than open()), or OSError."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


def _cannot_open(workdir, err):
    sys.stderr.write("%s: can't open file %r: [Errno %d] %s\n"
                     % (sys.executable, os.path.join(workdir, _FILENAME), err.errno,
                        err.strerror))
    _finalize(2)


def run(source=None, tree=None, workdir="/work", end_fd=None):
    """Compile and execute main.py in a fresh __main__; never returns.

    source/tree: main.py's bytes and its ast (from the policy check) when already at hand;
    end_fd: where to write the end report (None: no report).
    """
    global _end_fd
    _end_fd = end_fd
    _reset_stdio()
    main = _fresh_main(workdir)
    if source is None:
        try:
            source = read_source()
        except OSError as e:
            _cannot_open(workdir, e)
    status = 0
    try:
        code = compile(tree if tree is not None else source, _FILENAME, "exec",
                       dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        _print_exception(e, 99)  # a SyntaxError prints with no traceback
        _finalize(1)
    try:
        exec(code, main.__dict__)
    except BaseException as e:
        status = _handle(e, 1)
    _finalize(status)


if __name__ == "__main__":
    run(workdir=os.getcwd())
