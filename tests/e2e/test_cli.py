"""`pysandbox run FILE.py` and `pysandbox version`: the same sandbox from the shell."""
import os
import subprocess

import pytest

BIN = os.environ.get("PYSANDBOX_BIN", "")


# A uid block of its own: a server on this host with the default SANDBOX_UID_BASE would make
# the CLI warn on stderr, which the tests compare byte for byte.
ENV = dict(os.environ, SANDBOX_UID_BASE="3100000")


def cli(*args, cwd):
    return subprocess.run([BIN, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=ENV)


@pytest.fixture
def workdir(tmp_path):
    return tmp_path  # no .env here: the defaults apply


def write(path, text):
    path.write_text(text)
    return str(path)


def test_version_prints_a_version(workdir):
    r = cli("version", cwd=workdir)
    assert r.returncode == 0 and r.stdout.strip(), r
    assert any(ch.isdigit() for ch in r.stdout), r.stdout


def test_run_prints_output_and_exits_with_the_program_status(workdir):
    prog = write(workdir / "p.py", "import sys\nprint('out', 6 * 7)\nprint('err', file=sys.stderr)\nsys.exit(3)\n")
    r = cli("run", prog, cwd=workdir)
    assert (r.returncode, r.stdout, r.stderr) == (3, "out 42\n", "err\n"), r


def test_run_gives_input_files_to_the_program(workdir):
    data = write(workdir / "data.txt", "hello from a file")
    prog = write(workdir / "p.py", "print(open('in/data.txt').read().upper())\n")
    r = cli("run", prog, "--file", "in/data.txt=" + data, cwd=workdir)
    assert (r.returncode, r.stdout) == (0, "HELLO FROM A FILE\n"), r


@pytest.mark.parametrize("name", ["../escape.txt", "/tmp/abs.txt", "main.py", "a//b"])
def test_run_refuses_unsafe_file_names_before_any_run(workdir, name):
    data = write(workdir / "data.txt", "x")
    prog = write(workdir / "p.py", "print('ran')\n")
    r = cli("run", prog, "--file", name + "=" + data, cwd=workdir)
    assert r.returncode == 2 and "ran" not in r.stdout, r
    assert name in r.stderr, r.stderr


def test_run_policy_violation_is_a_failure(workdir):
    prog = write(workdir / "p.py", "print(eval('1 + 1'))\n")
    r = cli("run", prog, cwd=workdir)
    assert r.returncode == 1, r
    assert "Security policy violation: Dangerous builtin function detected: eval" in r.stderr
    assert r.stdout == ""


def test_run_timeout_kills_the_program(workdir):
    prog = write(workdir / "p.py", "import time\nprint('started', flush=True)\ntime.sleep(60)\n")
    r = cli("run", prog, "--timeout", "1", cwd=workdir)
    assert r.returncode != 0 and "started" in r.stdout, r
    assert "timeout" in r.stderr, r.stderr


def test_run_writes_output_files_to_out_dir(workdir):
    prog = write(workdir / "p.py", "import os\nos.makedirs('res', exist_ok=True)\n"
                                   "open('res/a.txt', 'w').write('A')\nopen('b.bin', 'wb').write(b'\\0\\1')\n"
                                   "open('in.txt', 'a').write('+')\n")
    data = write(workdir / "in.txt", "x")
    out = workdir / "out"
    r = cli("run", prog, "--file", "in.txt=" + data, "--out", str(out), cwd=workdir)
    assert r.returncode == 0, r
    assert (out / "res" / "a.txt").read_text() == "A"
    assert (out / "b.bin").read_bytes() == b"\0\1"
    assert (out / "in.txt").read_text() == "x+"  # a changed input is an output
    assert not (out / "p.py").exists() and not (out / "main.py").exists()


def test_run_out_never_writes_through_a_symlink(workdir):
    outside = workdir / "outside"
    outside.mkdir()
    out = workdir / "out"
    out.mkdir()
    (out / "link").symlink_to(outside)
    prog = write(workdir / "p.py", "import os\nos.makedirs('link')\nopen('link/x.txt', 'w').write('x')\n")
    r = cli("run", prog, "--out", str(out), cwd=workdir)
    assert r.returncode == 1, r
    assert "--out" in r.stderr, r.stderr
    assert list(outside.iterdir()) == []


def test_run_without_out_writes_nothing(workdir):
    prog = write(workdir / "p.py", "open('made.txt', 'w').write('m')\n")
    before = sorted(os.listdir(workdir))
    r = cli("run", prog, cwd=workdir)
    assert r.returncode == 0, r
    assert sorted(os.listdir(workdir)) == before


def test_run_checks_inputs_like_the_api(workdir):
    prog = write(workdir / "p.py", "print('ran')\n")
    big = write(workdir / "big.txt", "x" * 100)
    r = cli("run", prog, "--file", "big.txt=" + big, "--max-file-size", "10", cwd=workdir)
    assert r.returncode == 2 and "ran" not in r.stdout, r
    assert "File too large" in r.stderr and "big.txt" in r.stderr, r.stderr
    small = write(workdir / "s.txt", "s")
    r = cli("run", prog, "--file", "a=" + small, "--file", "a/b=" + small, cwd=workdir)
    assert r.returncode == 2 and "ran" not in r.stdout, r
    part = write(workdir / "part.txt", "x" * (3 << 18))  # 2 x 0.75 MiB into a 1 MiB work dir
    r = cli("run", prog, "--file", "f.txt=" + part, "--file", "g.txt=" + part,
            "--workdir-size-limit", "1m", "--max-file-size", "1m", cwd=workdir)
    assert r.returncode == 2 and "ran" not in r.stdout, r
    assert "1048576" in r.stderr, r.stderr
    r = cli("run", prog, "--timeout", "100000", cwd=workdir)
    assert r.returncode == 2 and "timeout" in r.stderr, r
