#!/usr/bin/python3
"""The per-request cost of keys, limits, history and metrics (issue 16), on SQLite and on a
PostgreSQL 15 started here (tests/support/postgres.py), each against an empty operation in the
same run. Builds build/bench/cpp/bench_request_path if needed. Run as root (PostgreSQL runs as
the `postgres` user). Usage: bench/request_path.py [--build-dir build]"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "support"))
from postgres import PostgresCluster  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "build"))
    args = ap.parse_args()
    subprocess.run(["cmake", "--build", args.build_dir, "--target", "bench_request_path"],
                   check=True, stdout=subprocess.DEVNULL)
    binary = os.path.join(args.build_dir, "bench", "cpp", "bench_request_path")
    with tempfile.TemporaryDirectory() as state, PostgresCluster() as pg:
        subprocess.run([binary, state, pg.create_database("bench")], check=True)


if __name__ == "__main__":
    main()
