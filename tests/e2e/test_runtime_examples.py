"""The original service's documented use cases, the code policy levels and per-run independence,
over HTTP against the real server (issue 4)."""
import base64
import csv
import io
import json

import pytest

from conftest import start_server

DATA_SCIENCE = """
import pandas as pd
import numpy as np
import matplotlib.pyplot as plt

data = {'x': np.random.randn(100), 'y': np.random.randn(100)}
df = pd.DataFrame(data)
plt.figure(figsize=(10, 6))
plt.scatter(df['x'], df['y'], alpha=0.6)
plt.title('Random Data Scatter Plot')
plt.savefig('plot.png', dpi=150, bbox_inches='tight')
plt.close()
stats = df.describe()
print("统计摘要:")
print(stats)
df.to_csv('data.csv', index=False)
print("\\n数据已保存到 data.csv")
print("图表已保存到 plot.png")
"""

CSV_PROCESSING = """
import pandas as pd
import json
df = pd.read_csv('input.csv')
print("原始数据:")
print(df)
df['age_group'] = df['age'].apply(lambda x: 'Young' if x < 30 else 'Adult')
df_sorted = df.sort_values('age')
df_sorted.to_csv('processed.csv', index=False)
stats = {
    'total_records': len(df),
    'average_age': df['age'].mean(),
    'cities': df['city'].unique().tolist(),
    'age_groups': df['age_group'].value_counts().to_dict()
}
with open('report.json', 'w') as f:
    json.dump(stats, f, indent=2)
print(json.dumps(stats, indent=2))
"""

SCRAPING = """
from bs4 import BeautifulSoup
import json
html = open('page.html').read()
soup = BeautifulSoup(html, 'html.parser')
title = soup.find('title').text if soup.find('title') else 'No title'
links = [{'url': a.get('href'), 'text': a.text.strip()} for a in soup.find_all('a') if a.get('href')]
with open('scraping_result.json', 'w') as f:
    json.dump({'title': title, 'links': links, 'total_links': len(links)}, f, indent=2)
print(f"页面标题: {title}")
print(f"找到 {len(links)} 个链接")
"""

PAGE = b"""<html><head><title>Herman Melville - Moby-Dick</title></head>
<body><a href="/one">One</a> <a href="https://example.org/two">Two</a> <a>no href</a></body></html>"""


def b64(data):
    return base64.b64encode(data).decode()


def test_data_science_example(server):
    body = server.execute(DATA_SCIENCE, timeout=60).json()
    assert body["success"], body
    assert "统计摘要" in body["stdout"] and "count" in body["stdout"]
    png = base64.b64decode(body["files"]["plot.png"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10000
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(body["files"]["data.csv"]).decode())))
    assert len(rows) == 100 and set(rows[0]) == {"x", "y"}
    float(rows[0]["x"])


def test_csv_processing_example(server):
    csv_in = b"name,age,city\nAlice,25,New York\nBob,30,London\nCharlie,35,Tokyo"
    body = server.execute(CSV_PROCESSING, timeout=30, files={"input.csv": b64(csv_in)}).json()
    assert body["success"], body
    assert set(body["files"]) == {"processed.csv", "report.json"}  # input.csv unchanged
    report = json.loads(base64.b64decode(body["files"]["report.json"]))
    assert report == {"total_records": 3, "average_age": 30.0,
                      "cities": ["New York", "London", "Tokyo"],
                      "age_groups": {"Adult": 2, "Young": 1}}
    processed = base64.b64decode(body["files"]["processed.csv"]).decode().splitlines()
    assert processed[0] == "name,age,city,age_group"
    assert processed[1] == "Alice,25,New York,Young"


def test_scraping_example_on_a_local_page(server):
    # The server has no network (NETWORK_MODE=none): the page comes as an input file.
    body = server.execute(SCRAPING, files={"page.html": b64(PAGE)}).json()
    assert body["success"], body
    result = json.loads(base64.b64decode(body["files"]["scraping_result.json"]))
    assert result["title"] == "Herman Melville - Moby-Dick"
    assert result["total_links"] == 2
    assert "找到 2 个链接" in body["stdout"]


RANDOMNESS = """
import json, os, random, uuid, tempfile
import numpy as np
print(json.dumps([random.random(), float(np.random.rand()), str(uuid.uuid4()),
                  os.urandom(8).hex(), tempfile.NamedTemporaryFile(dir='/tmp').name]))
"""


def test_runs_are_independent(server):
    first = server.execute(RANDOMNESS).json()
    second = server.execute(RANDOMNESS).json()
    a, b = json.loads(first["stdout"]), json.loads(second["stdout"])
    assert all(x != y for x, y in zip(a, b)), (a, b)
    # Nothing of the first run is visible in the second.
    w = server.execute("open('left.txt','w').write('x'); open('/tmp/left','w').write('x')").json()
    assert w["success"]
    r = server.execute("import os; print(os.path.exists('left.txt'), os.path.exists('/tmp/left'))")
    assert r.json()["stdout"] == "False False\n"


def test_unicode_code_output_and_file_names(server):
    code = "open('数据/résumé.txt','w').write(open('输入.txt').read().upper())\nprint('ok ✓')"
    body = server.execute(code, files={"输入.txt": b64("héllo wörld".encode()),
                                       "数据/.keep": ""}).json()
    assert body["success"], body
    assert body["stdout"] == "ok ✓\n"
    assert base64.b64decode(body["files"]["数据/résumé.txt"]).decode() == "HÉLLO WÖRLD"


@pytest.mark.parametrize("code, message", [
    ("eval('1+1')", "Dangerous builtin function detected: eval"),
    ("import subprocess as sp\nsp.run(['true'])", "Dangerous module call detected: subprocess.run"),
    ("from os import system as s\ns('true')", "Dangerous module call detected: os.system"),
])
def test_standard_policy_refuses_with_the_original_message(server, code, message):
    body = server.execute(code).json()
    assert body["success"] is False and body["status"] == "policy_violation"
    assert body["error"] == "Security policy violation: " + message
    assert body["stdout"] == "" and body["stderr"] == ""
    assert body["exit_code"] is None and body["signal"] is None  # the program never ran


def test_standard_policy_allows_ordinary_code(server):
    code = "import os, threading\nprint(os.getcwd())\nopen('f.txt','w').write('x')"
    assert server.execute(code).json()["status"] == "ok"


def test_policy_levels_off_and_strict():
    with start_server(env={"CODE_POLICY": "off", "PREFORK_RUNS": "0"}) as off:
        assert off.execute("print(eval('1+1'))").json()["stdout"] == "2\n"
    with start_server(env={"CODE_POLICY": "strict", "PREFORK_RUNS": "0"}) as strict:
        denied = strict.execute("import ctypes").json()
        assert denied["status"] == "policy_violation", denied
        allowed = strict.execute("import math, json\nprint(math.pi > 3)").json()
        assert allowed["stdout"] == "True\n", allowed


def test_syntax_error_is_not_a_policy_violation(server):
    body = server.execute("print('x'\n").json()
    assert body["status"] == "error" and "SyntaxError" in body["stderr"]
    assert 'File "main.py", line 1' in body["stderr"]


def test_system_exit_codes_and_traceback_without_runner_frames(server):
    assert server.execute("raise SystemExit(7)").json()["exit_code"] == 7
    assert server.execute("import sys; sys.exit()").json()["exit_code"] == 0
    body = server.execute("def f():\n    return 1/0\nf()").json()
    assert body["exit_code"] == 1
    lines = body["stderr"].splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1] == '  File "main.py", line 3, in <module>'
    assert "pysandbox" not in body["stderr"] and "zygote" not in body["stderr"]
    assert lines[-1] == "ZeroDivisionError: division by zero"


@pytest.mark.parametrize("code, stdout, stderr", [
    # __file__ is absolute, tracebacks still name main.py.
    ("import os\nprint(__file__, type(__loader__).__name__, __annotations__)\n"
     "os.chdir(os.path.dirname(__file__))\n1/0",
     "/work/main.py SourceFileLoader {}\n", 'File "main.py", line 4, in <module>\n    1/0\n'),
    # stdout is surrogateescape: the byte 0x80 goes out (the server shows it replaced).
    ("print('\\udc80 ok')", "\ufffd ok\n", ""),
    # Text left in the original stdout when the program replaced it.
    ("import io, sys\nprint('lost?', end='')\nsys.stdout = io.StringIO()", "lost?", ""),
    # A failing sys.excepthook is reported with the original exception.
    ("import sys\ndef hook(*a):\n    raise RuntimeError('in hook')\nsys.excepthook = hook\n"
     "raise ValueError('orig')", "", "RuntimeError: in hook\n\nOriginal exception was:\n"),
    # 3.11 reads a line of the script up to a null byte.
    ("print(1)\x00print(2)\n", "1\n", ""),
    # SIGINT and SIGQUIT as for `python3 main.py`, whatever the server inherited.
    ("import signal\nprint([l for l in open('/proc/self/status').read().splitlines()"
     " if l.startswith('SigIgn')], signal.getsignal(signal.SIGINT))",
     "['SigIgn:\\t0000000001001000'] <built-in function default_int_handler>\n", ""),
])
def test_runs_behave_like_python3_main_py(server, code, stdout, stderr):
    body = server.execute(code).json()
    assert body["stdout"] == stdout, body
    assert stderr in body["stderr"], body
