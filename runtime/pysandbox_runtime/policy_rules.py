"""Code policy rules: the names `standard` forbids, the original service's SecurityPolicy lists
(for `strict`), and their verdicts on a dotted name, an imported module or the whole text."""
import re

PREFIX = "Security policy violation: "
LEVELS = ("off", "standard", "strict")
COMPUTED = "<computed name>"

BUILTIN_CALLS = frozenset({"eval", "exec", "compile", "__import__"})
RUNS_PROGRAM = ("system", "popen", "execl", "execle", "execlp", "execlpe", "execv", "execve",
                "execvp", "execvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv",
                "spawnve", "spawnvp", "spawnvpe", "posix_spawn", "posix_spawnp")
ASYNC_RUNNERS = ("create_subprocess_exec", "create_subprocess_shell")
COMMAND_CALLS = frozenset([m + "." + f for m in ("os", "posix", "pty")
                           for f in RUNS_PROGRAM + ("spawn", COMPUTED)]
                          + ["asyncio." + f for f in ASYNC_RUNNERS])
COMMAND_MODULES = ("subprocess.", "_posixsubprocess.")  # every call of their contents
SUBPROCESS_RUNNERS = ("run", "call", "check_call", "check_output", "Popen", "getoutput",
                      "getstatusoutput")
_PASSED_ON_RUNNERS = frozenset(SUBPROCESS_RUNNERS + ("fork_exec", COMPUTED))  # run programs
FORBIDDEN_IMPORTS = ("multiprocessing", "concurrent.futures.process")
PROCESS_POOLS = frozenset({"concurrent.futures.ProcessPoolExecutor"})
SERVERS = ("TCPServer", "UDPServer", "ThreadingTCPServer", "ThreadingUDPServer",
           "ForkingTCPServer", "HTTPServer", "ThreadingHTTPServer")
SOCKET_SERVERS = frozenset(["socket.create_server"] + ["socketserver." + s for s in SERVERS[:5]]
                           + ["http.server." + s for s in SERVERS[5:]])
SOCKET_METHODS = frozenset({"bind", "listen"})
SOCKET_MAKERS = ("socket", "_socket", "ssl")  # what their functions return may be a socket
SOCKET_MODULES = SOCKET_MAKERS + ("socketserver", "http.server", "asyncio")
STAR_EXPORTS = {"os": RUNS_PROGRAM, "posix": RUNS_PROGRAM, "pty": ("spawn",),
                "subprocess": SUBPROCESS_RUNNERS, "asyncio": ASYNC_RUNNERS,
                "socket": ("create_server",), "socketserver": SERVERS[:5],
                "http.server": SERVERS[5:]}
INSPECTORS = frozenset({"print", "repr", "str", "type", "id", "callable", "hash", "help",
                        "isinstance", "format"})  # builtins that never call what they get
NAMED_BUILTINS = BUILTIN_CALLS | {"getattr", "vars"}  # what a bare name may resolve to

# strict: the original service's SecurityPolicy, list for list.
ORIGINAL_BUILTIN_CALLS = frozenset({
    "eval", "exec", "compile", "__import__", "open", "input", "raw_input", "file", "reload",
    "vars", "dir", "globals", "locals", "memoryview", "property", "super", "staticmethod",
    "classmethod", "delattr", "getattr", "hasattr", "setattr"})
ORIGINAL_DANGEROUS_MODULES = frozenset({
    "os", "sys", "subprocess", "multiprocessing", "threading", "socket", "urllib", "http",
    "ftplib", "telnetlib", "pickle", "cPickle", "marshal", "shelve", "dbm", "ctypes", "imp",
    "importlib", "__main__", "builtins", "__builtin__"})
ORIGINAL_SAFE_MODULES = frozenset({
    "math", "random", "datetime", "time", "json", "base64", "hashlib", "hmac", "uuid",
    "collections", "itertools", "functools", "re", "string", "textwrap", "unicodedata",
    "decimal", "fractions", "statistics", "pathlib"})
_ORIGINAL_SAFE_SUBMODULE = re.compile(
    r"collections\.|urllib\.parse$|email\.utils$|html\.|xml\.etree\.ElementTree$")
ORIGINAL_ATTRS = frozenset({"__builtins__", "__globals__", "__locals__", "__dict__",
                            "__class__", "__bases__", "__subclasses__", "__import__",
                            "__file__", "__name__"})
# Searched in the whole text, case-insensitively (comments and strings included).
_PATTERNS_TEXT = re.compile(r"__builtins__|__import__|__globals__|__locals__"
                            r"|(?:eval|exec|compile|open|file|input|raw_input)\s*\("
                            r"|['\"](?:eval|exec|__import__)['\"]", re.IGNORECASE)
_PATTERN_WORDS = (b"__builtins__", b"__import__", b"__globals__", b"__locals__")
_PATTERN_CALLS = (b"eval", b"exec", b"compile", b"open", b"file", b"input")  # raw_input too
_QUOTED = (b"eval", b"exec", b"__import__")
_PY_SPACE = frozenset(b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f")  # bytes str.isspace() accepts


def pattern_violation(source):
    """The original's string-pattern verdict on the whole text: a message or None."""
    if isinstance(source, bytes) and source.isascii():
        found = _ascii_pattern(source.lower())
    else:
        m = _PATTERNS_TEXT.search(source if isinstance(source, str) else
                                  source.decode("utf-8", "surrogateescape"))
        found = m and re.sub(r"\s+", "", m.group().lower()).replace('"', "'")
    return found and "Dangerous string pattern detected: " + found


def _ascii_pattern(low):
    """_PATTERNS on lower-cased ASCII, by substring search: the first match, canonical."""
    hits = [(low.find(w), w.decode()) for w in _PATTERN_WORDS if w in low]
    for word, quoted in [(w, False) for w in _PATTERN_CALLS] + [(w, True) for w in _QUOTED]:
        i = low.find(word)
        while i >= 0:
            j = i + len(word)
            if quoted and low[i - 1:i] in (b"'", b'"') and low[j:j + 1] in (b"'", b'"'):
                hits.append((i - 1, "'%s'" % word.decode()))
                break
            while not quoted and j < len(low) and low[j] in _PY_SPACE:
                j += 1
            if not quoted and low[j:j + 1] == b"(":
                hits.append((i, word.decode() + "("))
                break
            i = low.find(word, i + 1)
    return min(hits)[1] if hits else None


def original_import(name):
    """The original's verdict on importing `name`: a message or None."""
    if name in ORIGINAL_SAFE_MODULES or _ORIGINAL_SAFE_SUBMODULE.match(name):
        return None
    top = name.split(".")[0]
    if top in ORIGINAL_DANGEROUS_MODULES:
        return "Dangerous module import detected: " + top
    return "Module import not allowed: " + name


def first_danger(names, passed_on):
    """The message for the first forbidden name (passed_on: only those dangerous so)."""
    for name in sorted(names) if names else ():
        found = _danger(name)
        if found and (found[1] or not passed_on):
            return found[0]
    return None


def _danger(name):
    """(message, dangerous when passed on) if calling `name` is forbidden, else None."""
    while name.endswith(".__call__"):
        name = name[:-9]
    if name.startswith("builtins."):
        f = name[9:]
        if f in BUILTIN_CALLS or f == COMPUTED:
            return "Dangerous builtin function detected: " + f, True
        return None
    if name in COMMAND_CALLS or name in PROCESS_POOLS:
        return "Dangerous module call detected: " + name.replace("posix.", "os.", 1), True
    if name.startswith(COMMAND_MODULES):
        return "Dangerous module call detected: " + name, (
            name.rsplit(".", 1)[1] in _PASSED_ON_RUNNERS)
    if name in SOCKET_SERVERS:
        return "Dangerous socket operation detected: " + name, True
    return None
