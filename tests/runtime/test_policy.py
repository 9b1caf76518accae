"""Code policy: each rule of `standard`, aliases, allowed constructs, `strict`, `off`."""
import textwrap

import pytest

from pysandbox_runtime import policy

P = "Security policy violation: "


def verdict(code, level="standard"):
    return policy.check(textwrap.dedent(code), level)[0]


@pytest.mark.parametrize("code,message", [
    ("eval('1')", "Dangerous builtin function detected: eval"),
    ("exec('x=1')", "Dangerous builtin function detected: exec"),
    ("compile('1', 'f', 'eval')", "Dangerous builtin function detected: compile"),
    ("__import__('os')", "Dangerous builtin function detected: __import__"),
    ("f = eval\nf('1')", "Dangerous builtin function detected: eval"),
    ("import builtins\nbuiltins.exec('1')", "Dangerous builtin function detected: exec"),
    ("import builtins as b\nb.eval('1')", "Dangerous builtin function detected: eval"),
    ("from builtins import eval as e\ne('1')", "Dangerous builtin function detected: eval"),
    ("getattr(__builtins__, 'eval')('1')", "Dangerous builtin function detected: eval"),
    ("__builtins__.__dict__['exec']('1')", "Dangerous builtin function detected: exec"),
    ("import os\nos.system('ls')", "Dangerous module call detected: os.system"),
    ("import os\nos.popen('ls')", "Dangerous module call detected: os.popen"),
    ("import os as o\no.popen('ls')", "Dangerous module call detected: os.popen"),
    ("from os import system as s\ns('ls')", "Dangerous module call detected: os.system"),
    ("from os import *\nsystem('ls')", "Dangerous module call detected: os.system"),
    ("import os\nrun = os.system\nrun('ls')", "Dangerous module call detected: os.system"),
    ("import os\nx = os\ny = x\ny.system('ls')", "Dangerous module call detected: os.system"),
    ("import os\ngetattr(os, 'system')('ls')", "Dangerous module call detected: os.system"),
    ("import posix\nposix.system('ls')", "Dangerous module call detected: os.system"),
    ("import sys\nsys.modules['os'].system('x')", "Dangerous module call detected: os.system"),
    ("import importlib\nimportlib.import_module('os').popen('x')",
     "Dangerous module call detected: os.popen"),
    ("import subprocess\nsubprocess.run(['ls'])", "Dangerous module call detected: subprocess.run"),
    ("import subprocess as sp\nsp.Popen('ls')", "Dangerous module call detected: subprocess.Popen"),
    ("from subprocess import check_output as co\nco('ls')",
     "Dangerous module call detected: subprocess.check_output"),
    ("from subprocess import *\ncall('ls')", "Dangerous module call detected: subprocess.call"),
    ("def f():\n    return sp.getoutput('ls')\nimport subprocess as sp",
     "Dangerous module call detected: subprocess.getoutput"),
    ("import multiprocessing", "Dangerous module import detected: multiprocessing"),
    ("from multiprocessing import Pool", "Dangerous module import detected: multiprocessing"),
    ("import multiprocessing.pool as mp", "Dangerous module import detected: multiprocessing"),
    ("from concurrent.futures import ProcessPoolExecutor as P\nP()",
     "Dangerous module call detected: concurrent.futures.ProcessPoolExecutor"),
    ("import socket\ns = socket.socket()\ns.bind(('', 80))",
     "Dangerous socket operation detected: bind"),
    ("import socket\ns = socket.socket()\ns.listen()", "Dangerous socket operation detected: listen"),
    ("from socket import create_server\ncreate_server(('', 80))",
     "Dangerous socket operation detected: socket.create_server"),
    ("import http.server as h\nh.HTTPServer(('', 8000), None)",
     "Dangerous socket operation detected: http.server.HTTPServer"),
])
def test_standard_refuses(code, message):
    assert verdict(code) == P + message
    assert verdict(code, "strict") is not None
    assert verdict(code, "off") is None


@pytest.mark.parametrize("code", [
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
    "class A:\n    def __init__(self):\n        super().__init__()\n    def eval(self):\n        pass\nA().eval()",
    "import json, csv, io, base64, hashlib, datetime\nprint(json.dumps({}))",
])
def test_standard_allows(code):
    assert verdict(code) is None


def test_syntax_error_is_not_a_violation():
    assert policy.check("print(\n", "standard") == (None, None)
    assert policy.check("eval(", "strict") == (None, None)


def test_first_violation_in_source_order():
    code = "import os\nos.popen('a')\neval('1')\n"
    assert verdict(code) == P + "Dangerous module call detected: os.popen"


def test_tree_is_returned_for_the_runner():
    message, tree = policy.check("import re\nprint(re.compile('x'))", "standard")
    assert message is None and compile(tree, "main.py", "exec")


def test_code_without_trigger_words_skips_the_parse():
    assert policy.check("print(1)", "standard") == (None, None)


def test_unicode_identifiers_are_normalised_like_the_parser():
    assert verdict("\uff45\uff56\uff41\uff4c('1')") == (
        P + "Dangerous builtin function detected: eval")


@pytest.mark.parametrize("code,message", [
    ("import os", "Module import not allowed: os"),
    ("import sys", "Module import not allowed: sys"),
    ("from ctypes import CDLL", "Module import not allowed: ctypes"),
    ("import importlib", "Module import not allowed: importlib"),
    ("from . import x", "Module import not allowed: ."),
    ("().__class__.__bases__[0].__subclasses__()", "Dangerous attribute access detected: __class__"),
    ("def f(): pass\nf.__globals__", "Dangerous attribute access detected: __globals__"),
    ("getattr(print, '__self__')", "Dangerous attribute access detected: __self__"),
    ("def g():\n    yield\ng().gi_frame.f_back", "Dangerous attribute access detected: gi_frame"),
    ("print(globals())", "Dangerous builtin function detected: globals"),
    ("print(__builtins__)", "Dangerous builtin function detected: __builtins__"),
])
def test_strict_refuses(code, message):
    assert verdict(code, "strict") == P + message


@pytest.mark.parametrize("code", [
    "import math, random, json, datetime, re, collections, itertools, functools, string",
    "import statistics, decimal, fractions, csv, io, base64, hashlib, time, copy, typing",
    "import dataclasses\nfrom collections import Counter",
    "import numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt\nimport scipy.stats",
    "import requests\nfrom bs4 import BeautifulSoup\nfrom PIL import Image\nimport yaml",
    "class A:\n    def __init__(self):\n        super().__init__()\nprint(A.__name__, A.__doc__)",
    "with open('x.txt', 'w') as f:\n    f.write('ok')",
])
def test_strict_allows(code):
    assert verdict(code, "strict") is None


def test_off_allows_everything():
    assert policy.check("import os\nos.system('x')\neval('1')", "off") == (None, None)
