"""Host processes invisible, the server's secrets unreachable, the run's identity and privileges."""
import errno
import json
import os
import socket
import threading
import time

from conftest import SECRET, UID_BASE


def test_server_environ_and_cmdline_are_unreachable(server, run):
    # The server's own pid (and its spawner's) as seen on the host: not in the run's pid ns.
    host_pids = [server.pid, os.getpid(), 1]
    code = r"""
import json, os
out = {"own_environ": "\0".join(k + "=" + v for k, v in os.environ.items())}
for pid in %r:
    for what in ("environ", "cmdline", "cwd", "root"):
        p = "/proc/%%d/%%s" %% (pid, what)
        try:
            if what in ("cwd", "root"):
                out[p] = "LINK:" + os.readlink(p)
            else:
                out[p] = "READ:" + open(p, "rb").read().decode(errors="replace")
        except OSError as e:
            out[p] = e.errno
# Dump every environ, cmdline and fd link the run can see at all.
seen = []
for d in os.listdir("/proc"):
    if d.isdigit() or d in ("self", "thread-self"):
        for what in ("environ", "cmdline"):
            try:
                seen.append(open("/proc/%%s/%%s" %% (d, what), "rb").read().decode(errors="replace"))
            except OSError:
                pass
out["seen"] = seen
print(json.dumps(out))
""" % host_pids
    r = run(code)
    res = r.result()
    assert SECRET not in r["stdout"]
    for pid in host_pids[:2]:  # pid 1 exists in the run's ns: it is the run itself
        for what in ("environ", "cmdline", "cwd", "root"):
            assert res["/proc/%d/%s" % (pid, what)] == errno.ENOENT, (pid, what)
    # pid 1 of the run's namespace is the run's own interpreter, not the host's init.
    assert "zygote.py" in res["/proc/1/cmdline"] or "python" in res["/proc/1/cmdline"], res
    assert "systemd" not in res["/proc/1/cmdline"] and "init" not in res["/proc/1/cmdline"]
    # A clean environment: only variables we choose.
    env = dict(kv.split("=", 1) for kv in res["own_environ"].split("\0") if "=" in kv)
    assert "PYSANDBOX_SEC_SECRET" not in env and "AWS_SECRET_ACCESS_KEY" not in env, env
    assert set(env) <= {"PATH", "HOME", "LANG", "TMPDIR", "MPLBACKEND", "MPLCONFIGDIR",
                        "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED", "PYTHONIOENCODING",
                        "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                        "NUMEXPR_NUM_THREADS", "LC_ALL", "PYTHONUNBUFFERED"}, env


def test_proc_lists_only_the_runs_own_processes(run):
    code = r"""
import json, os, subprocess, time
first = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
child = subprocess.Popen(["/bin/sleep", "5"])
second = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
child.kill(); child.wait()
print(json.dumps({"me": os.getpid(), "first": first, "second": second, "child": child.pid,
                  "ppid": os.getppid()}))
"""
    res = run(code).result()
    assert res["me"] == 1 and res["ppid"] == 0, res  # pid 1 of a fresh pid namespace
    assert res["first"] == [1], res
    assert res["second"] == [1, res["child"]], res


def test_secret_file_of_the_server_cwd_is_unreachable(server, run):
    code = r"""
import json, os
hits = []
for root in ("/", "/tmp", "/work", "/opt", "/etc"):
    for dirpath, dirs, files in os.walk(root):
        if dirpath.startswith("/proc") or dirpath.startswith("/usr"):
            dirs[:] = []
            continue
        if "secret.txt" in files:
            hits.append(dirpath)
print(json.dumps({"hits": hits, "cwd_exists": os.path.exists(%r)}))
""" % server.cwd
    res = run(code, timeout=10).result()
    assert res == {"hits": [], "cwd_exists": False}, res


def test_capabilities_no_new_privs_and_seccomp(run):
    code = r"""
import json
status = {}
for line in open("/proc/self/status"):
    k, _, v = line.partition(":")
    status[k] = v.strip()
print(json.dumps({k: status.get(k) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
                                             "NoNewPrivs", "Seccomp")}))
"""
    res = run(code).result()
    zero = "0000000000000000"
    assert res == {"CapInh": zero, "CapPrm": zero, "CapEff": zero, "CapBnd": zero, "CapAmb": zero,
                   "NoNewPrivs": "1", "Seccomp": "2"}, res


def test_uid_gid_groups_and_setuid_fails(run):
    code = r"""
import json, os
out = {"ids": [os.getuid(), os.geteuid(), os.getgid(), os.getegid()], "groups": os.getgroups(),
       "uid_map": open("/proc/self/uid_map").read().split(),
       "gid_map": open("/proc/self/gid_map").read().split()}
for name, fn in (("setuid0", lambda: os.setuid(0)), ("setgid0", lambda: os.setgid(0)),
                 ("setresuid", lambda: os.setresuid(0, 0, 0)),
                 ("setgroups", lambda: os.setgroups([0])),
                 ("seteuid0", lambda: os.seteuid(0))):
    try:
        fn()
        out[name] = "ok"
    except OSError as e:
        out[name] = e.errno
print(json.dumps(out))
"""
    res = run(code).result()
    assert res["ids"] == [1000, 1000, 1000, 1000]
    assert res["groups"] == []
    for name in ("setuid0", "setgid0", "setresuid", "setgroups", "seteuid0"):
        # EINVAL: uid/gid 0 does not exist in the run's own user namespace (only 1000 does).
        assert res[name] in (errno.EPERM, errno.EINVAL), (name, res[name])
    # uid_map lines: inside, outside, count. The run's own user namespace maps only its uid
    # 1000, onto the run's uid in its zygote's namespace (1000 + k, one per run); the zygote's
    # namespace maps those onto the run uids of the host (UID_BASE + 1 + k), nothing onto root.
    for m in (res["uid_map"], res["gid_map"]):
        triples = [tuple(int(x) for x in m[i:i + 3]) for i in range(0, len(m), 3)]
        assert len(triples) == 1 and triples[0][0] == 1000 and triples[0][2] == 1, triples
        assert 1000 <= triples[0][1] < 1000 + 4095, triples
    zygotes = [p for p in os.listdir("/proc") if p.isdigit() and _uids(p) == [UID_BASE] * 4]
    assert zygotes
    for pid in zygotes:
        for name in ("uid_map", "gid_map"):
            with open("/proc/%s/%s" % (pid, name)) as f:
                m = f.read().split()
            triples = [tuple(int(x) for x in m[i:i + 3]) for i in range(0, len(m), 3)]
            assert (0, UID_BASE, 1) in triples, triples
            for inside, outside, count in triples:
                assert outside >= UID_BASE and outside + count <= UID_BASE + 4096, triples


def _uids(pid):
    try:
        with open("/proc/%s/status" % pid) as f:
            return [int(x) for x in next(l for l in f if l.startswith("Uid:")).split()[1:]]
    except (OSError, StopIteration):
        return None


def test_hostname_is_sandbox(run):
    res = run("import json, os, socket; print(json.dumps([socket.gethostname(), os.uname().nodename]))").result()
    assert res == ["sandbox", "sandbox"]


def test_only_stdio_fds_are_open_and_stdin_is_dev_null(run):
    code = r"""
import json, os, stat
listing = sorted(int(x) for x in os.listdir("/proc/self/fd"))
open_fds = []
for fd in range(3, 4096):
    try:
        os.fstat(fd)
        open_fds.append([fd, os.readlink("/proc/self/fd/%d" % fd)])
    except OSError:
        pass
st = os.fstat(0)
print(json.dumps({"listing": listing, "open_above_2": open_fds,
                  "stdin": os.readlink("/proc/self/fd/0"),
                  "stdin_dev": [stat.S_ISCHR(st.st_mode), os.major(st.st_rdev), os.minor(st.st_rdev)],
                  "stdin_read": os.read(0, 10).decode(),
                  "stdout": os.readlink("/proc/self/fd/1")[:5],
                  "stderr": os.readlink("/proc/self/fd/2")[:5]}))
"""
    res = run(code).result()
    # One deliberate fd: the write end of the end pipe, parked at RLIMIT_NOFILE - 1 (the
    # runner writes its "end" record there when the program is over; writing it early only ends this
    # run). Nothing of the zygote or the server: no socket, no pidfd, no namespace fd.
    assert [fd for fd, _ in res["open_above_2"]] == [255], res["open_above_2"]
    assert res["open_above_2"][0][1].startswith("pipe:["), res["open_above_2"]
    assert res["listing"][:3] == [0, 1, 2] and res["listing"][-1] == 255, res
    assert len(res["listing"]) == 5, res  # + listdir's own fd
    assert res["stdin"] == "/dev/null" and res["stdin_dev"] == [True, 1, 3], res
    assert res["stdin_read"] == ""
    assert res["stdout"] == "pipe:" and res["stderr"] == "pipe:", res


class _Listener:
    """A TCP listener on host loopback that records whether anyone connected."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self._stop = False
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def _loop(self):
        while not self._stop:
            try:
                c, addr = self.sock.accept()
                self.accepted.append(addr)
                c.close()
            except OSError:
                pass

    def close(self):
        self._stop = True
        self._t.join()
        self.sock.close()


def _host_addresses():
    """The host's non-loopback IPv4 addresses (a connect to them must not leave the run's net ns)."""
    import subprocess
    try:
        text = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=2).stdout
    except OSError:
        return []
    return [a for a in text.split() if ":" not in a][:3]


def test_network_host_loopback_listener_unreachable(server, run):
    listener = _Listener()
    addrs = _host_addresses()
    try:
        code = r"""
import json, socket, time, errno
out = {"ifaces": [n for _, n in socket.if_nameindex()]}
for host in ["127.0.0.1"] + %r:
    t = time.monotonic()
    try:
        socket.create_connection((host, %d), timeout=3).close()
        out[host] = ["connected", 0]
    except OSError as e:
        out[host] = [e.errno, round(time.monotonic() - t, 3)]
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"x", ("10.0.2.2", 53))
    out["udp_out"] = "sent"
except OSError as e:
    out["udp_out"] = e.errno
for fam, typ, proto in ((socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP),
                        (socket.AF_PACKET, socket.SOCK_RAW, 0)):
    try:
        socket.socket(fam, typ, proto).close()
        out["raw_%%d" %% fam] = "ok"
    except OSError as e:
        out["raw_%%d" %% fam] = e.errno
out["tcp_listeners"] = [l.split()[1] for l in open("/proc/net/tcp").read().splitlines()[1:]
                        if l.split()[3] == "0A"]
out["unix_sockets"] = len(open("/proc/net/unix").read().splitlines()) - 1
print(json.dumps(out))
""" % (addrs, listener.port)
        res = run(code, timeout=10).result()
        time.sleep(0.2)
    finally:
        listener.close()
    assert listener.accepted == [], "the sandbox reached a host listener: %s" % listener.accepted
    assert res["ifaces"] == ["lo"], res
    assert res["127.0.0.1"][0] == errno.ECONNREFUSED and res["127.0.0.1"][1] < 1.0, res
    for a in addrs:
        assert res[a][0] in (errno.ENETUNREACH, errno.ECONNREFUSED) and res[a][1] < 1.0, (a, res[a])
    assert res["udp_out"] == errno.ENETUNREACH, res
    assert res["raw_%d" % socket.AF_INET] == errno.EPERM, res
    assert res["raw_%d" % socket.AF_PACKET] == errno.EPERM, res
    # The run's network namespace holds none of the host's (or the server's) sockets.
    assert res["tcp_listeners"] == [], res
    assert res["unix_sockets"] == 0, res


def test_cgroup_paths_of_the_host_are_not_visible(run):
    # A cgroup namespace per run: /proc/self/cgroup shows "/" instead of host cgroup paths.
    r = run("print(open('/proc/self/cgroup').read())")
    lines = [l for l in r["stdout"].splitlines() if l]
    assert lines, r.brief()
    bad = [l for l in lines if l.split(":", 2)[2] != "/"]
    assert not bad, "host cgroup layout visible: %s" % bad


def test_mountinfo_reveals_no_host_paths(run):
    # Bind mounts list their source path within the host file system (4th field).
    r = run("print(open('/proc/self/mountinfo').read())")
    leaks = []
    for line in r["stdout"].splitlines():
        left, _, right = line.partition(" - ")
        fields, fstype = left.split(), right.split()[0] if right else ""
        if len(fields) < 5 or fstype in ("proc", "devtmpfs", "tmpfs", "sysfs", "devpts", "mqueue"):
            continue
        root, mount_point = fields[3], fields[4]
        if root not in ("/", mount_point) and not root.startswith("/usr/share/zoneinfo/"):
            leaks.append((root, mount_point))
    assert not leaks, "host paths in the run's mountinfo: %s" % leaks


def test_runtime_dir_holds_only_the_python_runtime(run):
    # The runtime is copied from a build dir that also holds CMake files naming host paths
    # (the repository, the build dir): only its *.py files may reach the sandbox.
    r = run("""
import json, os
found, texts = [], []
for d, dirs, files in os.walk("/opt/pysandbox"):
    for f in files:
        p = os.path.join(d, f)
        found.append(p)
        texts.append(open(p, "rb").read())
print(json.dumps({"files": found, "host": [t.count(b"%s") for t in texts]}))
""" % os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                   "runtime"))
    out = json.loads(r["stdout"])
    assert out["files"] and all(p.endswith(".py") for p in out["files"]), out["files"]
    assert not any(out["host"]), "a runtime file names the host runtime path"
