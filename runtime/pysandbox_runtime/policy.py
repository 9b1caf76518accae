"""Static code policy (off / standard / strict): refuses dangerous programs before they run.

A convenience with the original service's messages, not the security boundary (the sandbox
is). check() parses main.py only when a byte-level prefilter (policy_prefilter) cannot
prove it clean. The rules' lists are in policy_rules.

standard, the original's forbidden list, for calls: eval, exec, compile, __import__;
  os.system, os.popen and the os functions that also run a program (exec*, spawn*,
  posix_spawn*: the original's "system command execution"), pty.spawn,
  asyncio.create_subprocess_*; every call of subprocess.*, while importing it and naming its
  constants are allowed (`subprocess.PIPE`, `except subprocess.TimeoutExpired`); importing
  multiprocessing or concurrent.futures.process, ProcessPoolExecutor(); bind/listen on what
  may be a socket (made by socket/ssl, or of unknown origin in a program importing socket,
  ssl, socketserver, http.server or asyncio); socket.create_server and the socketserver and
  http.server servers. Names are followed through imports (`import subprocess as sp`,
  `from os import system as s`, `from os import *`), assignments (`e = eval`), getattr,
  vars, __dict__, __getattribute__ with constant or `+`-joined names, sys.modules[...] and
  importlib.import_module(...); a computed name on os/posix/pty/subprocess/builtins
  (`getattr(os, name)`) counts as forbidden. A forbidden function named but not called is
  allowed where it cannot be called behind the policy's back (printed, compared, an
  attribute read, bound to a name whose calls are refused) and refused when passed on
  (`map(eval, xs)`, `[os.system]`, `target=exec`). os.fork and threads are allowed: the
  sandbox's process limit governs them.
strict: standard plus the original's SecurityPolicy: its module allow-list and forbidden
  modules, calls of its forbidden builtins (open, input, getattr, super, …), its dunder
  attributes, and its string patterns anywhere in the text, comments included.
Limits (the sandbox stops these): objects reached through other modules (`shutil.os`,
ctypes), computed module names (`sys.modules[name]`), functions stored and fetched at run
time (`fs[k] = os.system`), methods of objects of unknown type (`loop.subprocess_exec`).
"""
import ast
import collections
import sys

from .policy_prefilter import proves_clean
from .policy_rules import (COMPUTED, FORBIDDEN_IMPORTS, INSPECTORS, NAMED_BUILTINS,
                           ORIGINAL_ATTRS, ORIGINAL_BUILTIN_CALLS, PREFIX, SOCKET_MAKERS,
                           SOCKET_METHODS, SOCKET_MODULES, STAR_EXPORTS,
                           first_danger, original_import, pattern_violation)


def check(source, level="standard"):
    """Return (message or None, ast tree or None). A SyntaxError is never a violation.

    source: main.py (bytes or str). The tree, when returned, is handed to the runner so
    main.py is parsed once; None means the runner compiles the source itself.
    """
    if level == "off":
        return None, None
    strict = level == "strict"
    if proves_clean(source, strict):
        return None, None
    try:
        tree = ast.parse(source, "main.py")
    except (SyntaxError, ValueError):
        return None, None  # the runner's compile reports it
    except (RecursionError, MemoryError):  # compile() may still manage a few levels more
        return PREFIX + "Code nested too deeply to check", None
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10000))  # the parser nests up to ~3000 deep; Python
    try:  # calls do not use the C stack in 3.11
        found = _Checker(tree, strict).first()
    finally:
        sys.setrecursionlimit(limit)
    if found is None and strict:
        found = pattern_violation(source)
    return (PREFIX + found if found else None), tree


# ---- full check on the ast --------------------------------------------------------------------
_EMPTY = frozenset()
_BUILTINS = frozenset({"builtins"})


class _Checker:
    """Bindings first (alias, imported: name → dotted names it may stand for; values: its
    simple assignments; stores: how often it is bound), then the rules on the nodes."""

    def __init__(self, tree, strict):
        self.strict, self.by_type = strict, _walk(tree)
        self.alias, self.imported, self.values, self.stores = {}, {}, {}, None
        self.uses_socket, self._memo = False, None
        self._bind()
        self._memo = {}

    def _bind(self):
        for node, _ in self.by_type["import"]:
            self._bind_import(node)
        assigns = []
        for node, _ in self.by_type["assign"]:
            t = type(node)
            targets, value = ((node.targets, node.value) if t is ast.Assign
                              else ([node.optional_vars], node.context_expr)
                              if t is ast.withitem else ([node.target], node.value))
            if value is not None and all(type(x) is ast.Name for x in targets):
                for x in targets:
                    self.values.setdefault(x.id, []).append(value)
                assigns.append((targets, value))
        for _ in range(3):  # follow short chains like `a = os; b = a`
            for targets, value in assigns:
                found = self.resolve(value)
                for x in targets if found else ():
                    self.alias[x.id] = self.alias.get(x.id, _EMPTY) | found

    def _bind_import(self, node):
        if type(node) is ast.Import:
            tops = [a.name.split(".")[0] for a in node.names]
            pairs = [(a.asname, a.name) if a.asname else (top, top)
                     for a, top in zip(node.names, tops)]
            modules = [a.name for a in node.names]
        elif node.module and not node.level:
            names = [(a.asname or a.name, a.name) for a in node.names if a.name != "*"] + [
                (f, f) for a in node.names if a.name == "*"
                for f in STAR_EXPORTS.get(node.module, ())]
            pairs = [(local, node.module + "." + name) for local, name in names]
            modules = [node.module]
        else:
            return
        for local, dotted in pairs:
            for d in (self.alias, self.imported):
                d[local] = d.get(local, _EMPTY) | {dotted}
        if any(_under(m, s) for m in modules for s in SOCKET_MODULES):
            self.uses_socket = True

    def resolve(self, node):
        """Dotted names an expression may denote (`sp.run` → {"subprocess.run"})."""
        if type(node) is ast.Name:
            found = self.alias.get(node.id)
            if found is not None:
                return found
            if node.id in NAMED_BUILTINS:
                return frozenset({"builtins." + node.id})
            return _BUILTINS if node.id == "__builtins__" else _EMPTY
        memo = self._memo
        if memo is None:
            return self._resolve(node)
        found = memo.get(id(node))
        if found is None:
            found = memo[id(node)] = self._resolve(node)
        return found

    def _resolve(self, node):
        t = type(node)
        if t is ast.Attribute:
            base = self.resolve(node.value)
            return frozenset(b + "." + node.attr for b in base) if base else _EMPTY
        if t is ast.Subscript:
            base = self.resolve(node.value)
            return _item(base, _fold(node.slice)) if base else _EMPTY
        if t is not ast.Call:
            return _EMPTY
        funcs, args = self.resolve(node.func), node.args
        if not funcs:
            return _EMPTY
        key = _fold(args[0]) if args else None
        if "builtins.getattr" in funcs and len(args) >= 2:
            key = _fold(args[1]) or COMPUTED
            return frozenset(b + "." + key for b in self.resolve(args[0]))
        if "builtins.vars" in funcs and len(args) == 1:
            return frozenset(b + ".__dict__" for b in self.resolve(args[0]))
        if key and not funcs.isdisjoint({"importlib.import_module", "builtins.__import__"}):
            return frozenset({key})
        found = set()
        for f in funcs:
            if f.endswith(".__getattribute__"):
                found.add(f[:-17] + "." + (key or COMPUTED))
            elif f.endswith(".__dict__.get"):
                found |= _item({f[:-4]}, key)
        return frozenset(found)

    def first(self):
        """The first violation in source order, or None."""
        hits, strict, load = [], self.strict, ast.Load
        for node, _ in self.by_type["import"]:
            hits.append((node, self._import_rule(node)))
        named = self.alias.keys() | NAMED_BUILTINS | {"__builtins__"}
        for node, parent in self.by_type["name"]:
            if node.id in named and type(node.ctx) is load:
                hits.append((node, self._reference_rule(node, parent)))
        for node, parent in self.by_type["access"]:
            msg = strict and _original_rule(node)
            if not msg and type(node.ctx) is load:
                msg = self._reference_rule(node, parent)
            hits.append((node, msg))
        for node, parent in self.by_type["call"]:
            msg = self._call_rule(node) or (strict and _original_rule(node))
            hits.append((node, msg or self._reference_rule(node, parent)))
        # innermost first among nodes starting at the same place: `a.b.c`
        return min([(n.lineno, n.col_offset, n.end_lineno, n.end_col_offset, msg)
                    for n, msg in hits if msg] or [(None,)])[-1]

    def _call_rule(self, node):
        func = node.func
        msg = first_danger(self.resolve(func), False)
        if msg:
            return msg
        receiver = None
        if type(func) is ast.Attribute and func.attr in SOCKET_METHODS:
            receiver, method = func.value, func.attr
        elif (type(func) is ast.Call and len(func.args) == 2 and _fold(func.args[1])
              in SOCKET_METHODS and "builtins.getattr" in self.resolve(func.func)):
            receiver, method = func.args[0], _fold(func.args[1])
        if receiver is not None and self._may_be_socket(receiver):
            return "Dangerous socket operation detected: " + method
        return None

    def _reference_rule(self, node, parent):
        """A forbidden function named without being called, somewhere it may get called."""
        msg = first_danger(self.resolve(node), True)
        return msg if msg and not self._harmless_place(node, parent) else None

    def _harmless_place(self, node, parent):
        t = type(parent)
        if t is ast.Call:
            func = parent.func
            if func is node:
                return True  # a call: _call_rule's business
            if type(func) is ast.Name and func.id in INSPECTORS and func.id not in self.alias:
                return True
            return bool(parent.args) and parent.args[0] is node and (
                "builtins.getattr" in self.resolve(func))  # the getattr result is judged
        if t is ast.Assign or t is ast.AnnAssign or t is ast.NamedExpr:  # an alias
            targets = parent.targets if t is ast.Assign else [parent.target]
            return all(type(x) is ast.Name for x in targets)
        return t is ast.Attribute or t is ast.Compare or t is ast.Expr

    def _may_be_socket(self, receiver):
        origins = self._origins(receiver, 0)
        if origins is None:
            return self.uses_socket
        return any(_under(o, m) or COMPUTED in o for o in origins for m in SOCKET_MAKERS)

    def _origins(self, node, depth):
        """Dotted names of what may have made `node`'s value; None when unknown."""
        t = type(node)
        if t is ast.Call:
            return self.resolve(node.func) or None
        if t is ast.Constant or t is ast.JoinedStr or t is ast.List or t is ast.Dict:
            return _EMPTY
        if t is not ast.Name or depth > 4:
            return None
        if self.stores is None:  # function parameters count as bound elsewhere
            self.stores = collections.Counter(
                [n.id for n, _ in self.by_type["name"] if type(n.ctx) is ast.Store]
                + [a.arg for a, _ in self.by_type["arg"]] * 2)
        values = self.values.get(node.id, ())
        if self.stores.get(node.id, 0) != len(values):
            return None  # also bound where this analysis does not look (for, def f(x), …)
        found = set(self.imported.get(node.id, ()))
        for value in values:
            more = self._origins(value, depth + 1)
            if more is None:
                return None
            found |= more
        return found if found or node.id in self.imported or values else None

    def _import_rule(self, node):
        if type(node) is ast.Import:
            modules = named = [a.name for a in node.names]
        else:  # the original judged `from .m import x` by "m" too
            named = [node.module] if node.module else []
            modules = [] if node.level else named + [
                node.module + "." + a.name for a in node.names]
        for mod in modules:
            if any(_under(mod, f) for f in FORBIDDEN_IMPORTS):
                return "Dangerous module import detected: " + mod.split(".")[0]
        for mod in named if self.strict else ():
            msg = original_import(mod)
            if msg:
                return msg
        return None


def _original_rule(node):
    """The original's verdict on a Call, Attribute or Subscript node: a message or None."""
    t = type(node)
    name = node.func if t is ast.Call else node.value if t is ast.Subscript else None
    if t is ast.Attribute and node.attr in ORIGINAL_ATTRS:
        return "Dangerous attribute access detected: " + node.attr
    if type(name) is ast.Name and name.id in (
            ORIGINAL_BUILTIN_CALLS if t is ast.Call else ("__builtins__",)):
        return "Dangerous builtin function detected: " + name.id
    return None


def _item(bases, key):
    """`base[key]` for the namespaces that hold modules or functions."""
    found = set()
    for b in bases:
        if b == "sys.modules" and key:
            found.add(key)  # a computed module name is one of the limits
        elif b == "builtins" or b.endswith(".__dict__"):
            found.add(b.rsplit(".__dict__", 1)[0] + "." + (key or COMPUTED))
    return frozenset(found)


def _fold(node):
    """The value of a constant string expression (`'sys' + 'tem'`), else None."""
    if type(node) is ast.Constant:
        return node.value if type(node.value) is str else None
    if type(node) is ast.BinOp and type(node.op) is ast.Add:
        left, right = _fold(node.left), _fold(node.right)
        return left + right if left is not None and right is not None else None
    return None


def _under(name, module):
    return name == module or name.startswith(module + ".")


_BUCKETS = {ast.Import: "import", ast.ImportFrom: "import", ast.Name: "name", ast.Call: "call",
            ast.Attribute: "access", ast.Subscript: "access", ast.arg: "arg", ast.Assign:
            "assign", ast.AnnAssign: "assign", ast.NamedExpr: "assign", ast.withitem: "assign"}
_SCALAR_FIELDS = frozenset({"ctx", "op", "ops", "id", "attr", "arg", "name", "module", "level",
                            "kind", "type_comment", "asname", "conversion", "is_async",
                            "simple"})
_FIELDS = {ast.Constant: (), ast.Name: ()}


def _walk(tree):
    """{bucket: [(node, parent)]} (see _BUCKETS); a keyword's value has the Call as parent."""
    by_type = {b: [] for b in _BUCKETS.values()}
    buckets = {t: by_type[b] for t, b in _BUCKETS.items()}
    todo, node_type, fields, bucket_of = [(tree, None)], ast.AST, _FIELDS, buckets.get
    while todo:
        node, parent = todo.pop()
        t = type(node)
        if t is ast.keyword:
            todo.append((node.value, parent))
            continue
        bucket = bucket_of(t)
        if bucket is not None:
            bucket.append((node, parent))
        names = fields.get(t)
        if names is None:
            names = fields[t] = tuple(f for f in t._fields if f not in _SCALAR_FIELDS)
        for field in names:
            value = getattr(node, field, None)
            if type(value) is list:
                todo.extend((v, node) for v in value if isinstance(v, node_type))
            elif isinstance(value, node_type):
                todo.append((value, node))
    return by_type
