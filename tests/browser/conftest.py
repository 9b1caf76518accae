"""Browser-test fixtures: one real `pysandbox serve` and one headless Chromium per test file.

The server is started exactly as the e2e tests start theirs (tests/e2e/conftest.py's
ServerProcess); without a binary or a browser the tests fail, they do not skip.
"""
import importlib.util
import os
import pathlib

import pytest

from browser import Browser

_E2E = pathlib.Path(__file__).resolve().parent.parent / "e2e" / "conftest.py"
_spec = importlib.util.spec_from_file_location("pysandbox_e2e_conftest", _E2E)
_e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_e2e)


@pytest.fixture(scope="module")
def server():
    binary = os.environ.get("PYSANDBOX_BIN", "")
    if not os.access(binary, os.X_OK):
        pytest.fail(f"PYSANDBOX_BIN={binary!r} is not an executable pysandbox binary")
    s = _e2e.ServerProcess()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.quit()
