"""Runs /work/main.py like `python3 main.py` does: clean __main__, same output and exit codes."""
import _io
import _signal
import atexit
import builtins
import gc
import io
import os
import sys
import types

try:
    from . import protocol
except ImportError:  # runner.py as a script: no end pipe
    protocol = None

_FILENAME = "main.py"
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_RUNTIME_DIR = os.path.dirname(_PACKAGE_DIR)
_SourceFileLoader = sys.modules["_frozen_importlib_external"].SourceFileLoader

# The end pipe (the server's fd `end`, parked by run_child at RLIMIT_NOFILE - 1) carries
# records (protocol.end_record): "end" once the program is over (the last write of the run),
# "flushed" from the handler of DEADLINE_SIGNAL, sent to G (pid 1) at the run's deadline, once
# the std streams are flushed. The server mirrors these in C++ (src/pool/end_pipe.h).
DEADLINE_SIGNAL = _signal.SIGRTMAX  # 64
FLUSHED_REPORT = protocol.end_record("flushed", b"") if protocol else b""

# What `python3` sets up at start: SIGPIPE and SIGXFSZ ignored, SIGINT raising
# KeyboardInterrupt, every other signal at the kernel's default.
_PLAIN_IGNORED = (_signal.SIGPIPE, _signal.SIGXFSZ)
_UNTOUCHABLE = (_signal.SIGKILL, _signal.SIGSTOP, _signal.SIGINT, DEADLINE_SIGNAL)

_prepared_stdio = None
_prepared_main = None
_zygote_stdio = None
_to_default = None
_process_prepared = False
_end_fd = None  # the end pipe, or None (runner.py as a script): see FLUSHED_REPORT
_MISSING = object()


def prepare_in_zygote(workdir="/work"):
    """In the zygote, once, unused there: the runs' sys.std* objects, __main__ and sys.path,
    and the list of signals a run resets.

    The streams only name fds 0/1/2, which each run points at its own /dev/null and pipes.
    Built before fork, a run saves ~0.3 ms of copy-on-write faults that building them costs
    after (so does __main__, less). The zygote's own streams stay referenced here: dropped in
    a run, they would be finalized (flushed, freed) in every run.
    """
    global _prepared_stdio, _prepared_main, _zygote_stdio, _to_default
    _zygote_stdio = (sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__,
                     sys.__stderr__)
    _prepared_stdio = _new_stdio()
    _prepared_main = _new_main(workdir)
    _to_default = _signals_to_default()
    logging = sys.modules.get("logging")
    if logging is not None:
        # logging.shutdown, at exit, flushes and closes every handler ever made: ~0.2 ms of
        # copy-on-write faults in a run for the handlers preloaded libraries made (NullHandlers,
        # logging.lastResort), which flush on every record anyway. A run's own still are.
        del logging._handlerList[:]


def _std_stream(fd, name, mode, errors, line_buffering):
    """One stream as the interpreter's create_stdio builds it (names, mode, newline "\n")."""
    raw = io.FileIO(fd, mode + "b", closefd=False)
    raw.name = name
    buf = io.BufferedWriter(raw) if mode == "w" else io.BufferedReader(raw)
    text = io.TextIOWrapper(buf, encoding="utf-8", errors=errors, newline="\n",
                            line_buffering=line_buffering)
    text.mode = mode
    return text


def _new_stdio():
    """stdin, stdout, stderr on fds 0/1/2 as `python3` makes them under LANG=C.UTF-8 (UTF-8,
    surrogateescape, stderr backslashreplace); stdout line-buffered, so that whole lines
    survive a kill (the rest is flushed at the deadline: DEADLINE_SIGNAL)."""
    return (_std_stream(0, "<stdin>", "r", "surrogateescape", False),
            _std_stream(1, "<stdout>", "w", "surrogateescape", True),
            _std_stream(2, "<stderr>", "w", "backslashreplace", True))


def prepare_process():
    """A run's sys.std* and signal handling, which do not depend on its program: run_child
    calls it after `ready` and before reading `go` (a prepared run then does not pay for it
    once its request has come)."""
    global _prepared_stdio, _process_prepared
    inp, out, err = _prepared_stdio or _new_stdio()
    _prepared_stdio = None
    sys.stdin = sys.__stdin__ = inp
    sys.stdout = sys.__stdout__ = out
    sys.stderr = sys.__stderr__ = err
    _plain_signals()
    _process_prepared = True


def _signals_to_default():
    """The signals whose handling differs from a fresh `python3`'s (ignored or handled, e.g.
    SIGINT and SIGQUIT when the server was started in the background, or by the zygote)."""
    return tuple(s for s in _signal.valid_signals()
                 if s not in _PLAIN_IGNORED and s not in _UNTOUCHABLE
                 and _signal.getsignal(s) not in (_signal.SIG_DFL, None))


def _plain_signals():
    """Signal handling as in a fresh `python3` (children inherit what is ignored), plus the
    deadline flush, which the program may replace like any handler."""
    for signum in _to_default if _to_default is not None else _signals_to_default():
        _signal.signal(signum, _signal.SIG_DFL)
    _signal.signal(_signal.SIGINT, _signal.default_int_handler)
    _signal.signal(DEADLINE_SIGNAL, _flush_on_deadline)


def _flush_on_deadline(signum, frame):
    """DEADLINE_SIGNAL: the server kills the run next; push out what the std streams still
    buffer (text without a newline), then say so on the end pipe."""
    for name in ("stdout", "stderr", "__stdout__", "__stderr__"):
        try:
            getattr(sys, name).flush()
        except BaseException:  # gone, closed, not a stream, or re-entered inside its write
            pass
    if _end_fd is not None:
        try:
            os.write(_end_fd, FLUSHED_REPORT)
        except OSError:
            pass


def _new_main(workdir):
    """(workdir, __main__, sys.path) of a run: an empty module that looks like a script's,
    with the names `python3 main.py` gives it, in its order. __file__ is the absolute path,
    while the code is compiled as "main.py", the name tracebacks show. sys.path as for
    `python3 main.py`: the script's directory first, the runtime's own dirs gone."""
    path = os.path.join(workdir, _FILENAME)
    main = types.ModuleType("__main__")
    main.__annotations__ = {}
    main.__builtins__ = builtins
    main.__file__ = path
    main.__cached__ = None
    main.__loader__ = _SourceFileLoader("__main__", path)
    return workdir, main, [workdir] + [p for p in sys.path if p not in (_RUNTIME_DIR,
                                                                        _PACKAGE_DIR)]


def _fresh_main(workdir):
    """Replace sys.modules['__main__'] (and sys.path, argv) with a run's (built in the zygote)."""
    global _prepared_main
    prepared = _prepared_main if _prepared_main and _prepared_main[0] == workdir else None
    _prepared_main = None
    _, main, path = prepared or _new_main(workdir)
    sys.modules["__main__"] = main
    sys.argv = [_FILENAME]
    sys.orig_argv = ["python3", _FILENAME]
    sys.path[:] = path
    return main


def plain_source(source):
    """main.py's bytes as `python3 main.py` (3.11) compiles them, for compile() and the policy.

    Its file reader keeps each line only up to a null byte: the rest of that line, newline
    included, is dropped, and the next line continues it. compile() refuses such bytes
    instead. 3.12 refuses them too; source declaring another encoding than UTF-8 is read by
    a different reader and is left as it is (compile() then refuses it).
    """
    if b"\0" not in source or sys.version_info >= (3, 12):
        return source
    lines = [line.partition(b"\0")[0] if b"\0" in line else line
             for line in source.splitlines(keepends=True)]
    import tokenize  # here: 4 ms to import where it is not yet (a cold run)
    try:
        encoding = tokenize.detect_encoding(iter(lines[:2]).__next__)[0]
    except SyntaxError:
        encoding = "utf-8"  # a bad declaration: compile() reports it
    return b"".join(lines) if encoding in ("utf-8", "utf-8-sig") else source


def _write_stderr(text):
    """PySys_WriteStderr: sys.stderr, else fd 2."""
    try:
        sys.stderr.write(text)
    except BaseException:
        try:
            os.write(2, text.encode("utf-8", "backslashreplace"))
        except OSError:
            pass


def _print_exception(exc, skip_frames):
    """Print exc as the interpreter's PyErr_Print does, without the runner's own frames.

    Returns the exit status if sys.excepthook raised SystemExit, else None. Must be called
    outside an `except` block: an exception of the hook would be chained to the one handled.
    """
    tb = exc.__traceback__
    for _ in range(skip_frames):
        if tb is not None:
            tb = tb.tb_next
    exc.__traceback__ = tb
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
    hook = getattr(sys, "excepthook", _MISSING)
    if hook is _MISSING:
        _write_stderr("sys.excepthook is missing\n")
        sys.__excepthook__(type(exc), exc, tb)
        return None
    try:
        hook(type(exc), exc, tb)
        return None
    except BaseException as e:
        failure = e
    if isinstance(failure, SystemExit):
        return _exit_status(failure)
    failure.__traceback__ = failure.__traceback__.tb_next  # from the hook's frame on
    _write_stderr("Error in sys.excepthook:\n")
    sys.__excepthook__(type(failure), failure, failure.__traceback__)
    _write_stderr("\nOriginal exception was:\n")
    sys.__excepthook__(type(exc), exc, tb)
    return None


def _exit_status(exc):
    """CPython's handling of SystemExit: None → 0, int → n, other → printed and 1."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return (code if -(1 << 63) <= code < (1 << 63) else -1) & 0xFF
    try:
        _write_stderr(str(code) + "\n")
    except BaseException:  # its __str__ failed
        pass
    return 1


def _handle(exc, skip_frames, default=1):
    if isinstance(exc, SystemExit):
        return _exit_status(exc)
    status = _print_exception(exc, skip_frames)
    return default if status is None else status


class _Probe:
    def __del__(self):
        raise RuntimeError


def _write_unraisable(exc, tb, obj):
    """PyErr_WriteUnraisable(obj) for exc: what sys.unraisablehook prints ("Exception ignored
    in: ..."). Its argument type is not public: one unraisable __del__ shows it."""
    captured = []
    hook, sys.unraisablehook = getattr(sys, "unraisablehook", None), captured.append
    try:
        _Probe()
    finally:
        sys.unraisablehook = hook
    args = type(captured[0])((type(exc), exc, tb, None, obj))
    try:
        hook(args)
    except BaseException:
        sys.__unraisablehook__(args)


def _is_closed(stream):
    try:
        return bool(stream.closed)
    except BaseException:  # the interpreter's file_is_closed: an error means open
        return False


def _flush_std_files():
    """The interpreter's flush_std_files(): flush sys.stdout then sys.stderr, unless None or
    closed; a failure of stdout's flush is reported as unraisable. False if one failed."""
    ok = True
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name, None)
        if stream is None or _is_closed(stream):
            continue
        try:
            stream.flush()
        except BaseException as e:
            ok = False
            if name == "stdout":
                _write_unraisable(e, e.__traceback__.tb_next, stream)
    return ok


def _release_interpreter():
    """The interpreter's finalize_modules, as far as output depends on it: the std streams
    back to the originals, sys.last_* dropped, __main__'s globals dropped and a collection,
    so that objects only these held are finalized now (a file the program never closed is
    flushed, a __del__ prints); last, the std streams are finalized, which flushes them
    (text a replaced sys.stdout hid comes out) and ignores errors."""
    for name in ("last_type", "last_value", "last_traceback"):
        if name in sys.__dict__:  # (adding them to sys would cost a resize of its dict)
            setattr(sys, name, None)
    for name in ("stdin", "stdout", "stderr"):
        setattr(sys, name, getattr(sys, "__%s__" % name, None))
    main = sys.modules.get("__main__")
    try:
        if main is not None:
            main.__dict__.clear()
        gc.collect()
    except BaseException:  # a failing __del__ is reported by the interpreter itself
        pass
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name, None)
        if isinstance(stream, _io._IOBase) and not _is_closed(stream):  # iobase_finalize's
            try:
                stream.flush()
            except BaseException:
                pass


def _finalize(status):
    """Py_FinalizeEx up to its exit: wait for non-daemon threads, run atexit handlers, flush,
    release what the interpreter's finalization releases; then report the end, _exit(status).

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
            _write_unraisable(e, e.__traceback__.tb_next, threading)
    atexit._run_exitfuncs()
    if not _flush_std_files():
        status = 120  # Py_FinalizeEx failed: the interpreter's status whatever the program's
    _release_interpreter()
    if _end_fd is not None:
        try:
            os.write(_end_fd, protocol.end_status_record(status & 0xFF))
        except OSError:
            pass
    os._exit(status)


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
    _write_stderr("%s: can't open file %r: [Errno %d] %s\n"
                  % (sys.executable, os.path.join(workdir, _FILENAME), err.errno, err.strerror))
    _finalize(2)


def prepare(source=None, tree=None, workdir="/work", end_fd=None):
    """Everything before main.py's first line: returns (code, globals) to exec, or reports a
    missing file or a SyntaxError and exits like the interpreter.

    source/tree: main.py's bytes (after plain_source) and its ast (from the policy check)
    when already at hand; end_fd: where to write the end report (None: no report).
    """
    global _end_fd
    _end_fd = end_fd
    if not _process_prepared:
        prepare_process()
    if source is None:  # (before sys.path starts with workdir: plain_source may import)
        try:
            source = plain_source(read_source())
        except OSError as e:
            _fresh_main(workdir)
            _cannot_open(workdir, e)
    main = _fresh_main(workdir)
    try:
        return (compile(tree if tree is not None else source, _FILENAME, "exec",
                        dont_inherit=True), main.__dict__)
    except (SyntaxError, ValueError) as e:
        failure = e
    _finalize(_handle(failure, 99))  # a SyntaxError prints with no traceback


def finish(outcome):
    """After main.py's code: outcome is [] or [its uncaught exception], which is printed as
    the interpreter does (outcome is emptied: the exception lives on in sys.last_value only,
    until _release_interpreter). Never returns."""
    _finalize(_handle(outcome.pop(), 1) if outcome else 0)


# `python3 -I -B runner.py` in the directory of main.py. Runs do the same at zygote.py's top
# level: main.py's frame has that one frame above it (`python3 main.py`: none), no more.
if __name__ == "__main__":
    _code, _globals = prepare(workdir=os.getcwd())
    _outcome = []
    try:
        exec(_code, _globals)
    except BaseException as _e:
        _outcome.append(_e)
    finish(_outcome)
