"""Output collection and input names: symlinks, FIFOs, sockets and traversal never reach the host."""
import base64
import os

import pytest

from conftest import marker


def test_symlink_output_is_not_followed_and_is_reported(run):
    code = r"""
import os
os.symlink("/etc/passwd", "passwd_link")
os.symlink("/proc/1/environ", "environ_link")
os.symlink("../../../../etc/hostname", "rel_link")
os.mkdir("d")
os.symlink("/usr", "d/usr_link")
os.symlink("/", "rootdir")
with open("real.txt", "w") as f:
    f.write("real")
print("ok")
"""
    r = run(code)
    assert r["status"] == "ok", r.brief()
    assert set(r["files"]) == {"real.txt"}, sorted(r["files"])
    assert base64.b64decode(r["files"]["real.txt"]) == b"real"
    for name in ("passwd_link", "environ_link", "rel_link", "d/usr_link", "rootdir"):
        assert "skipped %s: symbolic link" % name in r["warnings"], (name, r["warnings"])
    for content in r["files"].values():
        assert b"root:x:0:0" not in base64.b64decode(content)


def test_fifo_and_socket_outputs_do_not_hang_and_are_reported(run):
    code = r"""
import os, socket
os.mkfifo("fifo")
s = socket.socket(socket.AF_UNIX)
s.bind("sock")
print("ok")
"""
    r = run(code, timeout=5)
    assert r["status"] == "ok", r.brief()
    assert r.elapsed < 4, r.elapsed
    assert r["files"] == {}, sorted(r["files"])
    assert "skipped fifo: not a regular file" in r["warnings"], r["warnings"]
    assert "skipped sock: not a regular file" in r["warnings"], r["warnings"]


def test_fifo_with_a_writer_still_does_not_hang(run, host_clean):
    # A daemon keeps the FIFO open for writing; the run itself has ended.
    m = marker("fifo")
    host_clean.append(m)
    code = r"""
import os, signal
os.mkfifo("out.txt")
if os.fork() == 0:
    os.setsid()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.execv("/bin/sh", ["%s", "-c", "exec 3>out.txt; sleep 60"])
print("ok")
""" % m
    r = run(code, timeout=5)
    assert r["status"] == "ok", r.brief()
    assert r.elapsed < 4, r.elapsed
    assert "skipped out.txt: not a regular file" in r["warnings"], r["warnings"]


def test_deep_directories_do_not_break_collection(run):
    code = r"""
import os
p = "."
for i in range(200):
    p += "/d"
    os.mkdir(p)
open(p + "/deep.txt", "w").write("x")
print("ok")
"""
    r = run(code, timeout=5)
    assert r["status"] == "ok", r.brief()
    assert any("nested too deep" in w for w in r["warnings"]) or r["files"], r.brief()


@pytest.mark.parametrize("name", ["../x", "/etc/x", "a/../../x", "..", ".", "a/./b", "a//b", "",
                                  "a\\..\\x", "x\u0000y", "../../../../tmp/x", "./x"])
def test_input_file_names_with_traversal_are_rejected(server, name, host_clean):
    m = marker("in")
    host_clean.append(m)
    files = {name.replace("x", m): base64.b64encode(m.encode()).decode(),
             "ok_" + m: base64.b64encode(b"fine").decode()}
    r = server.post({"code": "import os; print(os.listdir('.'))", "timeout": 5, "files": files})
    assert r.status_code == 400, (name, r.status_code, r.text[:500])
    # Nothing named after the marker anywhere a traversal could land on the host.
    for d in ("/tmp", "/", "/etc", "/root", server.cwd, os.path.dirname(server.cwd)):
        assert not [n for n in os.listdir(d) if m in n], d


def test_input_files_cannot_be_written_through_a_planted_symlink(server, run):
    # Each run has a fresh work dir: a symlink planted by run 1 is gone in run 2, and a name
    # with a directory part is created beneath the work dir only.
    r1 = run("import os; os.symlink('/tmp', 'sub'); print('planted')")
    assert r1["status"] == "ok"
    r2 = run("import os; print(os.path.islink('sub'), open('sub/x').read())",
             files={"sub/x": b"inside"})
    assert (r2["status"], r2["stdout"]) == ("ok", "False inside\n"), r2.brief()
