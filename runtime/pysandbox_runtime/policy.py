"""Static code policy (off / standard / strict): refuses the original service's forbidden calls.

A convenience, not the security boundary (the sandbox is). Names are resolved through
imports and simple assignments, so aliases (`import subprocess as sp`, `from os import
system as s`, `o = os`) are caught; values computed at run time are not.
"""
import ast

PREFIX = "Security policy violation: "
LEVELS = ("off", "standard", "strict")

DANGEROUS_BUILTINS = frozenset({"eval", "exec", "compile", "__import__"})
DANGEROUS_CALLS = frozenset({"os.system", "os.popen", "posix.system", "posix.popen"})
FORBIDDEN_MODULES = ("subprocess", "multiprocessing")  # any use of their contents
FORBIDDEN_IMPORTS = ("multiprocessing", "concurrent.futures.process")
PROCESS_POOLS = frozenset({"concurrent.futures.ProcessPoolExecutor"})
SOCKET_SERVERS = frozenset({"socket.create_server", "socketserver.TCPServer",
                            "socketserver.UDPServer", "socketserver.ThreadingTCPServer",
                            "http.server.HTTPServer", "http.server.ThreadingHTTPServer"})
SOCKET_METHODS = frozenset({"bind", "listen"})
SOCKET_MODULES = ("socket", "socketserver", "http.server", "asyncio")
# `from M import *` of these makes their public functions plain names.
STAR_EXPORTS = {"os": ("system", "popen"), "posix": ("system", "popen"),
                "subprocess": ("run", "call", "check_call", "check_output", "Popen",
                               "getoutput", "getstatusoutput")}

STRICT_MODULES = frozenset({
    "__future__", "math", "cmath", "random", "json", "datetime", "time", "calendar", "zoneinfo",
    "re", "string", "textwrap", "unicodedata", "collections", "itertools", "functools",
    "operator", "statistics", "decimal", "fractions", "numbers", "csv", "io", "base64",
    "binascii", "hashlib", "hmac", "copy", "pprint", "typing", "dataclasses", "enum", "abc",
    "heapq", "bisect", "array", "struct", "uuid", "zlib", "gzip", "html", "difflib",
    "contextlib", "warnings", "secrets", "locale", "pathlib", "urllib", "email",
    "numpy", "pandas", "matplotlib", "mpl_toolkits", "scipy", "requests", "bs4", "PIL", "yaml",
    "dateutil", "pytz",
})
STRICT_BUILTINS = frozenset({"globals", "locals", "vars", "breakpoint", "__builtins__",
                             "__loader__", "__spec__"})
# Introspection that walks from any object to frames, code, globals or builtins.
STRICT_ATTRS = frozenset({"f_globals", "f_locals", "f_builtins", "f_back", "f_code",
                          "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code",
                          "tb_frame", "tb_next", "co_code", "func_globals"})
STRICT_DUNDERS_OK = frozenset({"__init__", "__name__", "__doc__", "__qualname__",
                               "__version__", "__enter__", "__exit__", "__iter__", "__next__",
                               "__len__", "__str__", "__repr__", "__post_init__", "__file__"})


# Every `standard` rule matches an identifier, attribute or string containing one of these.
_TRIGGERS = (b"eval", b"exec", b"compile", b"__import__", b"system", b"popen", b"subprocess",
             b"multiprocessing", b"concurrent", b"ProcessPool", b"bind", b"listen",
             b"create_server", b"Server")


def _may_violate(source):
    """False only if no `standard` rule can match: ASCII source without any trigger word.

    Non-ASCII source always gets the full check (identifiers are NFKC-normalised by the
    parser, so `ｅｖａｌ` is `eval`).
    """
    if isinstance(source, str):
        source = source.encode("utf-8", "surrogatepass")
    if not source.isascii():
        return True
    return any(t in source for t in _TRIGGERS)


def check(source, level="standard"):
    """Return (message or None, ast tree or None). A SyntaxError is never a violation.

    The tree, when returned, is handed to the runner so main.py is parsed once.
    """
    if level == "off" or (level != "strict" and not _may_violate(source)):
        return None, None
    try:
        tree = ast.parse(source, "main.py")
    except (SyntaxError, ValueError):
        return None, None
    found = _Checker(tree, level == "strict").first()
    return (PREFIX + found if found else None), tree


def _under(name, module):
    return name == module or name.startswith(module + ".")


class _Checker:
    """Two passes over the tree: bindings (imports, aliases), then the rules."""

    def __init__(self, tree, strict):
        self.tree, self.strict = tree, strict
        self.nodes = _walk(tree)
        self.alias = {}  # local name → set of dotted names it may stand for
        self.uses_socket = False
        self._bind()

    def _add(self, name, target):
        self.alias.setdefault(name, set()).add(target)

    def _bind(self):
        assigns = []
        for node in self.nodes:
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self._add(a.asname, a.name)
                    else:
                        top = a.name.split(".")[0]
                        self._add(top, top)
                    self._note_module(a.name)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                self._note_module(node.module)
                for a in node.names:
                    if a.name == "*":
                        for fn in STAR_EXPORTS.get(node.module, ()):
                            self._add(fn, node.module + "." + fn)
                    else:
                        self._add(a.asname or a.name, node.module + "." + a.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
                assigns.append(node)
        for _ in range(3):  # follow short chains like `a = os; b = a`
            for node in assigns:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if node.value is None:
                    continue
                values = self.resolve(node.value)
                for t in targets:
                    if isinstance(t, ast.Name):
                        for v in values:
                            self._add(t.id, v)

    def _note_module(self, name):
        if any(_under(name, m) for m in SOCKET_MODULES):
            self.uses_socket = True

    def resolve(self, node):
        """Dotted names an expression may denote (`sp.run` → {"subprocess.run"})."""
        if isinstance(node, ast.Name):
            if node.id in ("__builtins__", "builtins") and node.id not in self.alias:
                return {"builtins"}
            return self.alias.get(node.id, set())
        if isinstance(node, ast.Attribute):
            return {b + "." + node.attr for b in self.resolve(node.value)}
        if isinstance(node, ast.Subscript) and _const_str(node.slice):
            base = self.resolve(node.value)
            key = node.slice.value
            if "sys.modules" in base:
                return {key}
            if "builtins" in base or "builtins.__dict__" in base:
                return {"builtins." + key}
        if isinstance(node, ast.Call) and node.args and _const_str(node.args[0]):
            funcs = self.resolve(node.func)
            if funcs & {"importlib.import_module", "builtins.__import__"}:
                return {node.args[0].value}
        if (isinstance(node, ast.Call) and _is_name(node.func, "getattr")
                and len(node.args) >= 2 and _const_str(node.args[1])):
            return {b + "." + node.args[1].value for b in self.resolve(node.args[0])}
        return set()

    def first(self):
        """The first violation in source order, or None."""
        hits = []
        for node in self.nodes:
            msg = self._rule(node)
            if msg:  # innermost first among nodes starting at the same place: `a.b.c`
                hits.append((getattr(node, "lineno", 0), getattr(node, "col_offset", 0),
                             getattr(node, "end_lineno", 0), getattr(node, "end_col_offset", 0),
                             msg))
        return min(hits)[-1] if hits else None

    def _rule(self, node):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return self._import_rule(node)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in DANGEROUS_BUILTINS:
                return "Dangerous builtin function detected: " + node.id
            if self.strict and node.id in STRICT_BUILTINS:
                return "Dangerous builtin function detected: " + node.id
            return self._name_rule(self.resolve(node))
        if isinstance(node, ast.Attribute):
            if self.strict and _is_dunder_or_frame(node.attr):
                return "Dangerous attribute access detected: " + node.attr
            if isinstance(node.ctx, ast.Load):
                return self._name_rule(self.resolve(node))
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            return self._name_rule(self.resolve(node))
        if isinstance(node, ast.Call):
            return self._call_rule(node)
        return None

    def _name_rule(self, names):
        for name in sorted(names):
            if _under(name, "builtins") and name[9:] in DANGEROUS_BUILTINS:
                return "Dangerous builtin function detected: " + name[9:]
            if name in DANGEROUS_CALLS:
                return "Dangerous module call detected: " + name.replace("posix.", "os.")
            if any(name.startswith(m + ".") for m in FORBIDDEN_MODULES) or name in PROCESS_POOLS:
                return "Dangerous module call detected: " + name
            if name in SOCKET_SERVERS:
                return "Dangerous socket operation detected: " + name
        return None

    def _call_rule(self, node):
        func = node.func
        if (_is_name(func, "getattr") and len(node.args) >= 2 and _const_str(node.args[1])):
            attr = node.args[1].value
            if attr in DANGEROUS_BUILTINS:
                return "Dangerous builtin function detected: " + attr
            if self.strict and _is_dunder_or_frame(attr):
                return "Dangerous attribute access detected: " + attr
            return self._name_rule(self.resolve(node))
        if isinstance(func, ast.Attribute) and func.attr in SOCKET_METHODS and self.uses_socket:
            return "Dangerous socket operation detected: " + func.attr
        return None

    def _import_rule(self, node):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        else:
            modules = ["." * node.level + (node.module or "")]
            if node.module and not node.level:
                modules += [node.module + "." + a.name for a in node.names]
        for mod in modules:
            if any(_under(mod, f) for f in FORBIDDEN_IMPORTS):
                return "Dangerous module import detected: " + mod.split(".")[0]
        if self.strict:
            mod = modules[0]
            if mod.startswith(".") or mod.split(".")[0] not in STRICT_MODULES:
                return "Module import not allowed: " + mod
        return None


def _walk(tree):
    """Every node of the tree (like ast.walk, about twice as fast)."""
    out, todo, node_type = [], [tree], ast.AST
    while todo:
        node = todo.pop()
        out.append(node)
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, node_type):
                todo.append(value)
            elif isinstance(value, list):
                todo.extend(v for v in value if isinstance(v, node_type))
    return out


def _const_str(node):
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_name(node, name):
    return isinstance(node, ast.Name) and node.id == name


def _is_dunder_or_frame(attr):
    if attr in STRICT_ATTRS:
        return True
    return attr.startswith("__") and attr.endswith("__") and attr not in STRICT_DUNDERS_OK
