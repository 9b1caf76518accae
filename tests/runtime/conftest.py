"""pytest set-up for the runtime tests: the runtime package and the harness on sys.path."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RUNTIME = os.path.normpath(os.path.join(HERE, "..", "..", "runtime"))
for path in (RUNTIME, HERE):
    if path not in sys.path:
        sys.path.insert(0, path)
