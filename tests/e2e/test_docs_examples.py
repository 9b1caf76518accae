"""The curl examples of docs/API.md (and README.md) work as written against a live server."""
import json
import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```(?:bash|sh|shell)\n(.*?)```", re.S)


def curl_commands(path):
    if not path.exists():
        return []
    commands = []
    for block in BLOCK.findall(path.read_text(encoding="utf-8")):
        # A command may continue over lines ending in a backslash.
        text = block.replace("\\\n", " ")
        commands += [line.strip() for line in text.splitlines()
                     if line.strip().startswith("curl ") and "localhost:8000" in line]
    return commands


EXAMPLES = [(doc, cmd) for doc in ("docs/API.md", "README.md")
            for cmd in curl_commands(ROOT / doc)]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("doc,command", EXAMPLES or [pytest.param("", "", marks=pytest.mark.skip(
    reason="no curl examples found"))])
def test_curl_example(base_url, doc, command):
    command = command.replace("http://localhost:8000", base_url)
    out = subprocess.run(["bash", "-c", command + " -sS"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, (doc, command, out.stderr)
    text = out.stdout.strip()
    # Examples that show headers (-i) print them first; the JSON body is the last line.
    body = json.loads(text.splitlines()[-1]) if text else None
    assert body is not None, (doc, command)
