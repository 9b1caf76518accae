"""Every set-up step name the runtime can send in an `error` message is one the server knows.

The server turns a name outside its list (kRuntimeSteps in src/pool/run_verdict.cpp) into
run_protocol, and the client then sees "Sandbox error: run_protocol" instead of the step. This
reads the runtime's source: a string given for a parameter named `step` (or as its default) of
any runtime function, and the two places that forward steps by other means.
"""
import ast
import os
import re

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
RUNTIME = os.path.join(ROOT, "runtime")
VERDICT_CPP = os.path.join(ROOT, "src", "pool", "run_verdict.cpp")


def _runtime_trees():
    paths = [os.path.join(RUNTIME, "zygote.py")]
    pkg = os.path.join(RUNTIME, "pysandbox_runtime")
    paths += sorted(os.path.join(pkg, n) for n in os.listdir(pkg) if n.endswith(".py"))
    for path in paths:
        with open(path) as f:
            yield path, ast.parse(f.read(), path)


def _step_parameters(trees):
    """{function name: positional index of its `step` parameter}; string defaults of `step`."""
    index, defaults = {}, set()
    for _, tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            args = node.args.posonlyargs + node.args.args
            names = [a.arg for a in args]
            if "step" not in names:
                continue
            at = names.index("step")
            name = "SetupError" if node.name == "__init__" else node.name
            index[name] = at - 1 if names[0] == "self" else at
            tail = args[len(args) - len(node.args.defaults):]
            for arg, default in zip(tail, node.args.defaults):
                if arg.arg == "step" and isinstance(default, ast.Constant):
                    defaults.add(default.value)
    return index, defaults


def _name(expr):
    """`f` for f(...) and m.f(...); None for anything else."""
    return expr.attr if isinstance(expr, ast.Attribute) else getattr(expr, "id", None)


def _step_argument(call, index):
    """The expression passed as `step` in this call, or None."""
    for kw in call.keywords:
        if kw.arg == "step":
            return kw.value
    name, args = _name(call.func), call.args
    if name == "getattr" and len(args) == 3 and getattr(args[1], "value", None) == "step":
        return args[2]  # getattr(e, "step", default)
    if name == "_optional" and args:
        name, args = _name(args[0]), args[1:]  # _optional(fn, *args) calls fn(*args)
    at = index.get(name)
    return args[at] if at is not None and at < len(args) else None


def runtime_step_names():
    trees = list(_runtime_trees())
    index, names = _step_parameters(trees)
    for path, tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            arg = _step_argument(node, index)
            if isinstance(arg, ast.Constant):
                names.add(arg.value)
            elif arg is not None:
                # A forwarded step is a variable, e.step or getattr(e, "step", ...) (seen
                # above), never a name made up on the spot.
                forwarded = isinstance(arg, (ast.Name, ast.Attribute)) or (
                    isinstance(arg, ast.Call) and _name(arg.func) == "getattr")
                assert forwarded, "%s:%d: %s" % (path, node.lineno, ast.unparse(node))
    return names


def server_step_names():
    with open(VERDICT_CPP) as f:
        table = re.search(r"kRuntimeSteps\{(.*?)\};", f.read(), re.S)
    assert table, "no kRuntimeSteps table in " + VERDICT_CPP
    return set(re.findall(r"Step::(\w+)", table.group(1)))


def test_the_scan_finds_the_steps_of_every_process():
    names = runtime_step_names()
    for name in ("fork_run", "unshare", "mount_tmpfs", "mask_proc", "prctl",
                 "seccomp_load", "wait_go", "internal"):
        assert name in names, sorted(names)


def test_every_runtime_step_is_known_to_the_server():
    assert runtime_step_names() == server_step_names()


def test_no_error_message_is_built_outside_send_error():
    for path, tree in _runtime_trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict) and any(
                    isinstance(k, ast.Constant) and k.value == "step" for k in node.keys):
                assert path.endswith("protocol.py"), "%s:%d builds its own error message" % (
                    path, node.lineno)


def _protocol_section():
    with open(os.path.join(ROOT, "docs", "ARCHITECTURE.md")) as f:
        text = f.read()
    start = text.index("## Wire protocol")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else len(text)]


@pytest.mark.parametrize("name", sorted(server_step_names()))
def test_step_names_are_documented_in_the_wire_protocol(name):
    assert "`%s`" % name in _protocol_section(), name
