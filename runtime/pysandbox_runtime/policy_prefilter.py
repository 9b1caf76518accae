"""Code policy prefilter: proves a program clean on its bytes without parsing it, or gives up."""
import re
import unicodedata

from .policy_rules import (ASYNC_RUNNERS, ORIGINAL_BUILTIN_CALLS, RUNS_PROGRAM, SERVERS,
                           original_import, pattern_violation)

# Trigger word → when an identifier occurrence in code may matter: (as a plain name, after a
# dot); True: always; a set: if one of these words occurs as an identifier; (): never.
_E_OS = (b"os", b"posix", b"pty", b"modules")
_E_SOCKET = (b"socket", b"_socket", b"ssl", b"socketserver", b"http", b"asyncio", b"modules")
_E_GUARDED = _E_OS + _E_SOCKET + (b"subprocess", b"_posixsubprocess", b"builtins",
                                  b"__builtins__", b"importlib", b"sys", b"concurrent")
_TRIGGERS = {w.encode(): rule for words, rule in (
    (("eval", "exec", "compile"), (True, (b"modules",))),
    (("__import__", "builtins", "__builtins__", "import_module", "subprocess",
      "_posixsubprocess", "multiprocessing", "ProcessPoolExecutor", "create_server")
     + SERVERS, (True, True)),
    (RUNS_PROGRAM + ("spawn",), (True, _E_OS)),
    (ASYNC_RUNNERS, (True, (b"asyncio", b"modules"))),
    (("bind", "listen"), ((), _E_SOCKET)),
    (("getattr", "vars", "__getattribute__", "__dict__"), (_E_GUARDED, _E_GUARDED)),
    (("modules",), ((b"sys",),) * 2),
    (("process",), ((b"concurrent",),) * 2)) for w in words}
# Substrings that together occur in every trigger word (test_policy checks it).
_NEEDLES = (b"eval", b"exec", b"compile", b"system", b"popen", b"spawn", b"rocess", b"erver",
            b"builtins", b"__import__", b"import_module", b"bind", b"listen", b"getattr",
            b"vars", b"__dict__", b"modules")
_IS_IDENT = [c >= 128 or chr(c).isalnum() or c == 95 for c in range(256)]  # UTF-8 bytes too
_CODING_RE = re.compile(rb"^[ \t\f]*#.*?coding[:=]", re.M)
# Substrings that together occur in every name of ORIGINAL_BUILTIN_CALLS (tested).
_ORIGINAL_CALL_NEEDLES = (b"attr", b"method", b"reload", b"vars", b"dir", b"globals",
                          b"locals", b"memoryview", b"property", b"super", b"open", b"file",
                          b"input", b"eval", b"exec", b"compile", b"__import__")
_ORIGINAL_ATTR_NEEDLES = (b"__dict__", b"__class__", b"__bases__", b"__subclasses__",
                          b"__file__", b"__name__")  # the other four are string patterns
_DOTTED = rb"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_AS = rb"(?:[ \t]+as[ \t]+[A-Za-z_]\w*)?"
_IMPORT_LINE_RE = re.compile(  # `import a.b as c, d  # …` or `from ..a.b import …`
    rb"[ \t]*(?:import[ \t]+(" + _DOTTED + _AS + rb"(?:[ \t]*,[ \t]*" + _DOTTED + _AS
    + rb")*)[ \t]*(?:#.*)?\Z|from[ \t]+\.*[ \t]*(" + _DOTTED + rb")?[ \t]+import\b)")


def proves_clean(source, strict):
    """True when no rule of the level (strict: standard's and the original's) can match."""
    view = _identifier_view(source)
    return view is not None and _clean_standard(view) and (
        not strict or _clean_original(source, view))


def _identifier_view(source):
    """Bytes in which every identifier reads as the parser will see it, or None (unknown)."""
    if isinstance(source, str):
        source = source.encode("utf-8", "surrogatepass")
    if b"coding" in source and _CODING_RE.search(b"\n".join(source.split(b"\n", 2)[:2])):
        return None  # a PEP 263 cookie may re-read the bytes in another encoding
    if source.isascii():
        return source
    try:  # the parser NFKC-normalises identifiers: `ｅｖａｌ` is `eval`
        return unicodedata.normalize("NFKC", source.decode("utf-8")).encode(
            "utf-8", "surrogatepass")
    except UnicodeError:
        return None


def _identifiers(view, needle):
    """(start, word) of each identifier-like run of `view` that contains `needle`."""
    i, n, ident = view.find(needle), len(view), _IS_IDENT
    while i >= 0:
        j, k = i, i + len(needle)
        while j and ident[view[j - 1]]:
            j -= 1
        while k < n and ident[view[k]]:
            k += 1
        yield j, view[j:k]
        i = view.find(needle, k)


def _code_prefix(view, start):
    """The line before `start`, stripped; None when `start` is surely in a comment or string."""
    line = max(view.rfind(b"\n", 0, start), view.rfind(b"\r", 0, start)) + 1
    prefix = view[line:start]
    if b"#" in prefix and b"'" not in prefix and b'"' not in prefix:
        return None  # after a `#` that no string on this line hides
    return prefix.rstrip(b" \t\f")


def _clean_standard(view):
    """True when no `standard` rule can match (the full check would find nothing)."""
    enabled = {}
    for needle in _NEEDLES:
        for start, word in _identifiers(view, needle):
            rule = _TRIGGERS.get(word)
            prefix = rule and _code_prefix(view, start)
            if prefix is None:
                continue
            as_name, as_attr = rule
            rules = ((as_attr,) if prefix.endswith(b".") else (as_name,) if prefix
                     else (as_name, as_attr))  # at a line start: maybe `x.\` before it
            for r in rules:
                if r is True:
                    return False
                for w in r:
                    if w not in enabled:
                        enabled[w] = any(x == w for _, x in _identifiers(view, w))
                    if enabled[w]:
                        return False
    return True


def _clean_original(source, view):
    """True when no rule of the original's SecurityPolicy can match."""
    if pattern_violation(source):
        return False
    for needle in _ORIGINAL_CALL_NEEDLES:  # a call of a forbidden builtin, or maybe one
        for start, word in _identifiers(view, needle):
            if word.decode("utf-8", "replace") in ORIGINAL_BUILTIN_CALLS:
                rest = view[start + len(word):start + len(word) + 256].lstrip(b" \t\f")
                if not rest or rest[0] in b"(#\\\r\n":
                    return False
    for needle in _ORIGINAL_ATTR_NEEDLES:  # `x.__name__`, or at a line start
        for start, word in _identifiers(view, needle):
            prefix = _code_prefix(view, start) if word == needle else None
            if prefix is not None and (not prefix or prefix.endswith(b".")):
                return False
    seen = set()
    for start, word in _identifiers(view, b"import"):
        if word != b"import":
            continue
        begin = max(view.rfind(b"\n", 0, start), view.rfind(b"\r", 0, start)) + 1
        end = view.find(b"\n", start)
        line = view[begin:end if end >= 0 else None].split(b"\r", 1)[0]
        if begin in seen:
            return False  # two imports on one line: leave it to the parser
        seen.add(begin)
        m = _IMPORT_LINE_RE.match(line)
        if not m:
            return False  # an import this scan does not understand
        names = m.group(1).split(b",") if m.group(1) else [m.group(2) or b"."]
        if any(original_import(n.split()[0].decode()) for n in names if n != b"."):
            return False
    return True
