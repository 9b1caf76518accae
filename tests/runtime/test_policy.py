"""Code policy: each rule of `standard`, aliases, allowed constructs, `strict` (the original
service's SecurityPolicy and its unit tests), `off`, and the prefilter that skips the parse."""
import ast
import textwrap

import pytest

from pysandbox_runtime import policy, policy_prefilter, policy_rules

P = "Security policy violation: "


def verdict(code, level="standard"):
    return policy.check(textwrap.dedent(code), level)[0]


def full_verdict(code, level):
    """What the checker says with the prefilter bypassed."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    found = policy._Checker(tree, level == "strict").first()
    if found is None and level == "strict":
        found = policy_rules.pattern_violation(code)
    return found and P + found


STANDARD_REFUSES = [
    ("eval('1')", "Dangerous builtin function detected: eval"),
    ("exec('x=1')", "Dangerous builtin function detected: exec"),
    ("compile('1', 'f', 'eval')", "Dangerous builtin function detected: compile"),
    ("__import__('os')", "Dangerous builtin function detected: __import__"),
    ("f = eval\nf('1')", "Dangerous builtin function detected: eval"),
    ("e = eval\ng = e\ng('1')", "Dangerous builtin function detected: eval"),
    ("import builtins\nbuiltins.exec('1')", "Dangerous builtin function detected: exec"),
    ("import builtins as b\nb.eval('1')", "Dangerous builtin function detected: eval"),
    ("from builtins import eval as e\ne('1')", "Dangerous builtin function detected: eval"),
    ("getattr(__builtins__, 'eval')('1')", "Dangerous builtin function detected: eval"),
    ("getattr(__builtins__, 'ev' + 'al')('1')", "Dangerous builtin function detected: eval"),
    ("__builtins__.__dict__['exec']('1')", "Dangerous builtin function detected: exec"),
    ("eval.__call__('1')", "Dangerous builtin function detected: eval"),
    ("list(map(eval, ['1']))", "Dangerous builtin function detected: eval"),
    ("import threading\nthreading.Thread(target=exec, args=('1',))",
     "Dangerous builtin function detected: exec"),
    ("fs = [eval]\nfs[0]('1')", "Dangerous builtin function detected: eval"),
    ("def f(g=eval):\n    return g('1')", "Dangerous builtin function detected: eval"),
    ("import os\nos.system('ls')", "Dangerous module call detected: os.system"),
    ("import os\nos.popen('ls')", "Dangerous module call detected: os.popen"),
    ("import os as o\no.popen('ls')", "Dangerous module call detected: os.popen"),
    ("from os import system as s\ns('ls')", "Dangerous module call detected: os.system"),
    ("from os import *\nsystem('ls')", "Dangerous module call detected: os.system"),
    ("import os\nrun = os.system\nrun('ls')", "Dangerous module call detected: os.system"),
    ("import os\nx = os\ny = x\ny.system('ls')", "Dangerous module call detected: os.system"),
    ("import os\ngetattr(os, 'system')('ls')", "Dangerous module call detected: os.system"),
    ("import os\ngetattr(os, 'sys' + 'tem')('ls')", "Dangerous module call detected: os.system"),
    ("import os\nn = 'system'\ngetattr(os, n)('ls')",
     "Dangerous module call detected: os.<computed name>"),
    ("import os\nos.__dict__['popen']('ls')", "Dangerous module call detected: os.popen"),
    ("import os\nvars(os)['system']('ls')", "Dangerous module call detected: os.system"),
    ("import os\nos.__dict__.get('system')('ls')", "Dangerous module call detected: os.system"),
    ("import os\nos.__getattribute__('popen')('ls')", "Dangerous module call detected: os.popen"),
    ("import os\nos.system.__call__('ls')", "Dangerous module call detected: os.system"),
    ("import os\nprint(list(map(os.system, ['ls'])))", "Dangerous module call detected: os.system"),
    ("import posix\nposix.system('ls')", "Dangerous module call detected: os.system"),
    ("import sys\nsys.modules['os'].system('x')", "Dangerous module call detected: os.system"),
    ("import importlib\nimportlib.import_module('os').popen('x')",
     "Dangerous module call detected: os.popen"),
    ("import os\nos.posix_spawn('/bin/ls', ['ls'], {})",
     "Dangerous module call detected: os.posix_spawn"),
    ("import os\nos.posix_spawnp('ls', ['ls'], {})",
     "Dangerous module call detected: os.posix_spawnp"),
    ("import os\nos.execv('/bin/ls', ['ls'])", "Dangerous module call detected: os.execv"),
    ("import os\nos.execlp('ls', 'ls')", "Dangerous module call detected: os.execlp"),
    ("import os\nos.spawnvp(os.P_WAIT, 'ls', ['ls'])",
     "Dangerous module call detected: os.spawnvp"),
    ("from os import execve\nexecve('/bin/ls', ['ls'], {})",
     "Dangerous module call detected: os.execve"),
    ("import pty\npty.spawn('ls')", "Dangerous module call detected: pty.spawn"),
    ("import asyncio\nasyncio.create_subprocess_shell('ls')",
     "Dangerous module call detected: asyncio.create_subprocess_shell"),
    ("import subprocess\nsubprocess.run(['ls'])", "Dangerous module call detected: subprocess.run"),
    ("import subprocess as sp\nsp.Popen('ls')", "Dangerous module call detected: subprocess.Popen"),
    ("import subprocess\nsubprocess.CalledProcessError(1, 'ls')",
     "Dangerous module call detected: subprocess.CalledProcessError"),
    ("from subprocess import check_output as co\nco('ls')",
     "Dangerous module call detected: subprocess.check_output"),
    ("from subprocess import *\ncall('ls')", "Dangerous module call detected: subprocess.call"),
    ("import subprocess\nrunners = [subprocess.run]",
     "Dangerous module call detected: subprocess.run"),
    ("def f():\n    return sp.getoutput('ls')\nimport subprocess as sp",
     "Dangerous module call detected: subprocess.getoutput"),
    ("import multiprocessing", "Dangerous module import detected: multiprocessing"),
    ("from multiprocessing import Pool", "Dangerous module import detected: multiprocessing"),
    ("import multiprocessing.pool as mp", "Dangerous module import detected: multiprocessing"),
    ("from concurrent.futures import process", "Dangerous module import detected: concurrent"),
    ("from concurrent.futures import ProcessPoolExecutor as P\nP()",
     "Dangerous module call detected: concurrent.futures.ProcessPoolExecutor"),
    ("import socket\ns = socket.socket()\ns.bind(('', 80))",
     "Dangerous socket operation detected: bind"),
    ("import socket\ns = socket.socket()\ns.listen()",
     "Dangerous socket operation detected: listen"),
    ("import socket\nwith socket.socket() as s:\n    s.bind(('', 80))",
     "Dangerous socket operation detected: bind"),
    ("import socket\ndef serve(s):\n    s.bind(('', 80))",
     "Dangerous socket operation detected: bind"),
    ("import socket\ngetattr(socket.socket(), 'bind')(('', 80))",
     "Dangerous socket operation detected: bind"),
    ("import sys\nsys.modules['socket'].socket().bind(('', 80))",
     "Dangerous socket operation detected: bind"),
    ("import sys\ns = sys.modules['socket'].socket()\ns.bind(('', 80))",
     "Dangerous socket operation detected: bind"),
    ("from socket import create_server\ncreate_server(('', 80))",
     "Dangerous socket operation detected: socket.create_server"),
    ("import http.server as h\nh.HTTPServer(('', 8000), None)",
     "Dangerous socket operation detected: http.server.HTTPServer"),
]


@pytest.mark.parametrize("code,message", STANDARD_REFUSES)
def test_standard_refuses(code, message):
    assert verdict(code) == P + message
    assert verdict(code, "strict") is not None
    assert verdict(code, "off") is None


STANDARD_ALLOWS = [
    "import os\nprint(os.getcwd(), os.listdir('.'))",
    "import os\nos.fork()",
    "open('out.txt', 'w').write('x')\nprint(open('out.txt').read())",
    "import threading\nthreading.Thread(target=print).start()",
    "import re\nre.compile('a+').match('aa')",
    "import pandas as pd\ndf = pd.DataFrame({'a': [1]})\ndf.eval('b = a + 1')\ndf.query('a > 0')",
    "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.savefig('p.png')",
    "import numpy as np\nnp.random.seed(1)",
    "import requests\nfrom bs4 import BeautifulSoup",
    "import subprocess",
    "import socket\nsocket.gethostname()",
    "import inspect\ninspect.signature(print).bind",
    "class A:\n    def __init__(self):\n        super().__init__()\n"
    "    def eval(self):\n        pass\nA().eval()",
    "import json, csv, io, base64, hashlib, datetime\nprint(json.dumps({}))",
    # Named, not called (item 2 of the audit).
    "print(eval)",
    "e = eval",
    "print(eval is exec, eval.__doc__[:10], repr(compile))",
    "import os\nprint(os.system)\ncmd = os.system",
    "import subprocess\nprint(subprocess.PIPE)",
    "from subprocess import PIPE, DEVNULL",
    "import subprocess\ntry:\n    pass\n"
    "except (subprocess.TimeoutExpired, subprocess.CalledProcessError):\n    pass",
    "import subprocess\nkw = dict(stdout=subprocess.PIPE, stderr=subprocess.STDOUT)",
    # bind/listen on what is not a socket.
    "import inspect, socket\ndef f(a):\n    pass\ninspect.signature(f).bind(1)",
    "import inspect, socket\ndef f(a):\n    pass\nsig = inspect.signature(f)\nsig.bind(1)",
    "def on_key(widget):\n    widget.bind('<Key>', print)",
    "class Q:\n    def listen(self):\n        pass\nQ().listen()",
]


@pytest.mark.parametrize("code", STANDARD_ALLOWS)
def test_standard_allows(code):
    assert verdict(code) is None


# tests/unit/test_security.py of the original service, case for case: policy.check(code,
# "strict") gives the same verdict as SecurityPolicy.validate_code(code). The original's
# messages were Chinese and never reached its API; ours follow its documented format.
@pytest.mark.parametrize("code", [
    "print('Hello, World!')",  # test_safe_code
    "import math\nresult = math.sqrt(16)",
    "import json\ndata = {'key': 'value'}",
    "x = 1 + 2\nprint(x)",
    "for i in range(10):\n    print(i)",
    "import math",  # test_safe_modules
    "import json",
    "import datetime",
    "from math import sqrt",
    "import random",
])
def test_original_safe_code(code):
    assert policy.check(code, "strict") == (None, None)


@pytest.mark.parametrize("code,message", [
    ("eval('1+1')", "Dangerous builtin function detected: eval"),  # test_dangerous_builtins
    ("exec('print(1)')", "Dangerous builtin function detected: exec"),
    ("__import__('os')", "Dangerous builtin function detected: __import__"),
    ("compile('1+1', '<string>', 'eval')", "Dangerous builtin function detected: compile"),
    ("import os", "Dangerous module import detected: os"),  # test_dangerous_modules
    ("import sys", "Dangerous module import detected: sys"),
    ("import subprocess", "Dangerous module import detected: subprocess"),
    ("from os import system", "Dangerous module import detected: os"),
    ("import socket", "Dangerous module import detected: socket"),
    ("x.__class__", "Dangerous attribute access detected: __class__"),  # test_dangerous_attributes
    ("x.__globals__", "Dangerous attribute access detected: __globals__"),
    ("x.__builtins__", "Dangerous attribute access detected: __builtins__"),
    ("[].__class__.__bases__[0].__subclasses__()",
     "Dangerous attribute access detected: __class__"),
    ("# This code uses __builtins__", "Dangerous string pattern detected: __builtins__"),
    ("x = '__import__'", "Dangerous string pattern detected: '__import__'"),  # test_string_patterns
    ("func = 'eval'", "Dangerous string pattern detected: 'eval'"),
])
def test_original_refused_code(code, message):
    assert verdict(code, "strict") == P + message


def test_original_syntax_error_is_refused_by_the_run_not_the_policy():
    code = "print('missing quote"  # the original: unsafe, "语法错误"
    assert policy.check(code, "strict") == (None, None)
    with pytest.raises(SyntaxError):
        compile(code, "main.py", "exec")


@pytest.mark.parametrize("code,message", [
    # Its allow-list has neither pandas nor matplotlib, csv, io or numpy: the documented
    # data-science examples never passed it, and strict refuses them like it.
    ("import pandas as pd", "Module import not allowed: pandas"),
    ("import matplotlib.pyplot as plt", "Module import not allowed: matplotlib.pyplot"),
    ("import json, csv", "Module import not allowed: csv"),
    ("from io import StringIO", "Module import not allowed: io"),
    ("import os.path", "Dangerous module import detected: os"),
    ("from urllib import parse", "Dangerous module import detected: urllib"),
    ("from ctypes import CDLL", "Dangerous module import detected: ctypes"),
    ("import html", "Module import not allowed: html"),
    ("from .helpers import x", "Module import not allowed: helpers"),
    ("with open('x.txt', 'w') as f:\n    f.write('ok')",
     "Dangerous builtin function detected: open"),
    ("data = input()", "Dangerous builtin function detected: input"),
    ("class A:\n    def __init__(self):\n        super().__init__()",
     "Dangerous builtin function detected: super"),
    ("x = (dir # no call on this line\n     ())", "Dangerous builtin function detected: dir"),
    ("getattr(print, '__name__')", "Dangerous builtin function detected: getattr"),
    ("def f():\n    pass\nprint(f.__name__)", "Dangerous attribute access detected: __name__"),
    ("x = {}\nx.__dict__", "Dangerous attribute access detected: __dict__"),
    ("print(__builtins__)", "Dangerous string pattern detected: __builtins__"),
    ("import re\nre.compile('a')", "Dangerous string pattern detected: compile("),
    ("def profile():\n    pass\nprofile ()", "Dangerous string pattern detected: file("),
    ("x = 'EXEC'", "Dangerous string pattern detected: 'exec'"),
    ("print('ok')  # then Eval (it)", "Dangerous string pattern detected: eval("),
    ("print('caf\u00e9')  # __globals__", "Dangerous string pattern detected: __globals__"),
    ("import subprocess as sp", "Dangerous module import detected: subprocess"),
])
def test_strict_follows_the_original(code, message):
    assert verdict(code, "strict") == P + message


@pytest.mark.parametrize("code", [
    "import collections.abc, urllib.parse, email.utils, html.parser",
    "import xml.etree.ElementTree as ET\nfrom collections import Counter\nfrom pathlib import Path",
    "import hashlib, hmac, uuid, base64, statistics, decimal, fractions, textwrap, unicodedata",
    "from . import helpers",  # the original judged only a named module
    "class A:\n    @property\n    def x(self):\n        return 1\n"
    "    @staticmethod\n    def s():\n        pass",
    "if __name__ == '__main__':\n    print([].__len__())",
    "print('caf\u00e9', sorted({3, 1}))",
])
def test_strict_allows_what_the_original_allowed(code):
    assert verdict(code, "strict") is None


def test_off_allows_everything():
    assert policy.check("import os\nos.system('x')\neval('1')", "off") == (None, None)


def test_syntax_error_is_not_a_violation():
    assert policy.check("print(\n", "standard") == (None, None)
    assert policy.check("eval(", "strict") == (None, None)
    assert policy.check("import os\nos.system('x')\nprint(", "standard") == (None, None)


def test_deep_nesting_is_checked_or_refused():
    deep = "x = os" + ".path" * 2000 + "\neval('1')\n"  # the checker recurses deeper than 1000
    assert verdict(deep) == P + "Dangerous builtin function detected: eval"
    deeper = "eval" + "()" * 5000  # beyond the parser's ast limit
    assert verdict(deeper) == P + "Code nested too deeply to check"


def test_first_violation_in_source_order():
    code = "import os\nos.popen('a')\neval('1')\n"
    assert verdict(code) == P + "Dangerous module call detected: os.popen"
    assert verdict("import pandas\nimport os", "strict") == P + "Module import not allowed: pandas"


def test_tree_is_returned_for_the_runner():
    message, tree = policy.check("import re\nprint(eval, re.compile('x'))", "standard")
    assert message is None and compile(tree, "main.py", "exec")


def test_unicode_identifiers_are_normalised_like_the_parser():
    assert verdict("\uff45\uff56\uff41\uff4c('1')") == (
        P + "Dangerous builtin function detected: eval")
    assert verdict("import os\nos.\uff53ystem('ls')") == (
        P + "Dangerous module call detected: os.system")


def test_a_coding_cookie_does_not_fool_the_prefilter():
    code = b"# coding: utf-7\n+AGUAdgBhAGw-('1')\n"  # eval('1') in UTF-7
    assert policy.check(code, "standard")[0] == P + "Dangerous builtin function detected: eval"


# ---- the prefilter: skips the parse, never a violation ----------------------------------------
BIG = "".join("x%d = [i * %d for i in range(10) if i %% 2]\nprint(x%d)\n" % (i, i, i)
              for i in range(500))


@pytest.mark.parametrize("code", [
    "print(1)",
    "import re\n# the filesystem, eval() and os.system in a comment\nr = re.compile('x')\n",
    "import torch\nmodel = torch.nn.Linear(1, 1)\nmodel.eval()\n",
    "import inspect\ninspect.signature(print).bind\n",
    "import math\n" + BIG,
    "caf\u00e9eval = 1  # one identifier, not `eval`\nprint(caf\u00e9eval)",
])
def test_clean_code_skips_the_parse(code):
    assert policy.check(code.encode(), "standard") == (None, None)


@pytest.mark.parametrize("code", [
    "import math, json\nprint(math.pi)",
    "from collections import Counter  # counts\nimport urllib.parse as up\n" + BIG,
    "if __name__ == '__main__':\n    print('caf\u00e9')",
])
def test_strict_clean_code_skips_the_parse(code):
    assert policy.check(code.encode(), "strict") == (None, None)


TRICKY = [
    "import os\nos.\\\nsystem('ls')",
    "import os\n(os.\n system('ls'))",
    "import os\n(os  # comment\n .system('ls'))",
    "import os\nx = '#'; os.system('ls')",
    "s = '''\n# '''; import os; os.system('ls')",
    "import os as o  # note\no.popen('ls')",
    "import os\r\nos.system('ls')\r\n",
    "import os\ros.system('ls')\r",
    "from os import (\n    system,\n)\nsystem('ls')",
    "x = 1 # comment\nimport subprocess as s; s.run('ls')",
    "e = \\\neval\ne('1')",
    "import socket as k\nt = k.socket()\nt.\\\nlisten()",
    "import sys as s\ns.modules['posix'].system('ls')",
    "from sys import modules\nmodules['os'].system('ls')",
    "import importlib as i\ni.import_module('o' + 's').system('ls')",
    "import builtins\nvars(builtins)['ex' + 'ec']('1')",
    "import concurrent.futures.process",
    "x = 1; import os\nos.system('ls')",
    "import math; import os",
    "if True: import os",
    "import math, os",
    "from json import (loads,\n    dumps); import os",
    "from json import loads; import os",
    "import math as m\n(m,\n super())",
    "x = (open\n ('f'))",
    "print('''\nimport math\n''')\nimport pandas",
    "print(1)\n\\\nimport os",
    "caf\u00e9 = 1\nimport os",
    "x.\\\n__class__",
    "(x\n .__name__)",
    "print(\"x\").__class__",
    "RAW = 1\nraw_input ('x')",
]


@pytest.mark.parametrize("level", ["standard", "strict"])
@pytest.mark.parametrize("code", TRICKY + [c for c, _ in STANDARD_REFUSES] + STANDARD_ALLOWS)
def test_prefilter_agrees_with_the_full_check(code, level):
    assert policy.check(code.encode(), level)[0] == full_verdict(code, level)


def test_needles_cover_every_trigger_word():
    for word in policy_prefilter._TRIGGERS:
        assert any(n in word for n in policy_prefilter._NEEDLES), word
    for word in policy_rules.ORIGINAL_BUILTIN_CALLS:
        assert any(n in word.encode() for n in policy_prefilter._ORIGINAL_CALL_NEEDLES), word
