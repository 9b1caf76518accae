"""Attack-suite fixtures: the real `pysandbox serve` on loopback plus host-state checks.

One server per test file (session scope: CTest runs each file as its own pytest process).
The server gets a secret in its environment and in a file of its cwd; every response is
searched for it. After every test the host is checked (processes of the sandbox uids, a
test's marker in any /proc/*/cmdline, run cgroups, mounts, /tmp); after the whole file the
server must still be healthy with its fd count back at the baseline.

The suite uses its own SANDBOX_UID_BASE and CGROUP_PREFIX so that other servers on the
same host (other engineers, other test files) cannot make a host check fail or pass; set
PYSANDBOX_SEC_UID_BASE and PYSANDBOX_SEC_CGROUP_PREFIX to run two copies of it side by side.
"""
import base64
import json
import os
import pathlib
import re
import secrets
import signal
import subprocess
import tempfile
import threading
import time

import pytest
import requests

LISTENING = re.compile(r"\bevent=listening\b.*\bport=(\d+)")
START_TIMEOUT_S = 60

# Host uids of the sandboxes: base = the zygotes (uid 0 inside), base + 1 ... + 4095 = runs,
# one uid each (uid 1000 in the run's own user namespace).
UID_BASE = int(os.environ.get("PYSANDBOX_SEC_UID_BASE", "1600000"))
RUN_UIDS = range(UID_BASE + 1, UID_BASE + 4096)
SANDBOX_UIDS = range(UID_BASE, UID_BASE + 4096)
# Each file's server: cgroups named PREFIX-<file name>.
CGROUP_PREFIX = os.environ.get("PYSANDBOX_SEC_CGROUP_PREFIX", "pysbx-sec")

# Limits set explicitly so the tests can assert exact numbers (small ones keep bombs fast).
MiB = 1 << 20
LIMITS = {
    "MEMORY_LIMIT": 256 * MiB,
    "WORKDIR_SIZE_LIMIT": 32 * MiB,
    "TMP_SIZE_LIMIT": 32 * MiB,
    "WORKDIR_MAX_FILES": 10000,
    "MAX_OUTPUT_SIZE": 1 * MiB,
    "MAX_OUTPUT_FILES": 1000,
    "MAX_OUTPUT_FILES_SIZE": 50 * MiB,
    "PIDS_LIMIT": 64,
    "NOFILE_LIMIT": 256,
    "CPU_LIMIT": 1,
}

SECRET = "SECRETTOKEN" + secrets.token_hex(16)  # in the server's env and in a file of its cwd
FD_SLACK = 4  # the server's fd count may differ from its baseline by this much (keep-alive etc.)
FDS_PER_PREPARED_RUN = 8


def marker(tag="m"):
    """A string unique to one attack: used in file names and process argv, searched on the host."""
    return "sbxsec%s%s" % (tag, secrets.token_hex(6))


# ---------------------------------------------------------------------------------------
# Host state
# ---------------------------------------------------------------------------------------

def _read(path, mode="r"):
    try:
        with open(path, mode) as f:
            return f.read()
    except OSError:
        return b"" if "b" in mode else ""


def _proc_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _proc_ids(pid):
    """(real, effective, saved, fs) uids of a process, or None if it is gone."""
    for line in _read("/proc/%d/status" % pid).splitlines():
        if line.startswith("Uid:"):
            return tuple(int(x) for x in line.split()[1:5])
    return None


def _starttime(pid):
    stat = _read("/proc/%d/stat" % pid)
    return stat[stat.rfind(")") + 2:].split()[19] if ")" in stat else None


def _describe(pid):
    cmd = _read("/proc/%d/cmdline" % pid, "rb").replace(b"\0", b" ").decode(errors="replace")
    return "pid %d uids %s ppid-line %r cmdline %r" % (
        pid, _proc_ids(pid), next((l for l in _read("/proc/%d/status" % pid).splitlines()
                                  if l.startswith("PPid:")), ""), cmd)


def sandbox_processes():
    """{(pid, starttime): description} of every host process with a sandbox uid."""
    out = {}
    for pid in _proc_pids():
        ids = _proc_ids(pid)
        if ids and any(u in SANDBOX_UIDS for u in ids):
            out[(pid, _starttime(pid))] = _describe(pid)
    return out


def processes_with(text):
    """Descriptions of host processes whose cmdline or comm contains text."""
    needle = text.encode()
    found = []
    for pid in _proc_pids():
        if pid == os.getpid():
            continue
        if needle in _read("/proc/%d/cmdline" % pid, "rb") or needle in _read(
                "/proc/%d/comm" % pid, "rb"):
            found.append(_describe(pid))
    return found


# Egress (NETWORK_MODE=egress): each prepared or running network run has one slirp4netns,
# running as root with a group id from SANDBOX_UID_BASE + 4096 on (its firewall identity).
EGRESS_GIDS = range(UID_BASE + 4096, UID_BASE + 4096 + 1024)


def egress_links():
    """Descriptions of the slirp4netns processes of this suite's gid range."""
    found = []
    for pid in _proc_pids():
        status = _read("/proc/%d/status" % pid)
        gid_line = next((l for l in status.splitlines() if l.startswith("Gid:")), "")
        gids = [int(x) for x in gid_line.split()[1:]]
        if gids and gids[0] in EGRESS_GIDS:
            found.append(_describe(pid) + " gid %d" % gids[0])
    return found


def nft_tables():
    """Names of the host's nftables tables (nft from Debian's nftables package)."""
    out = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=False)
    return [line.split()[-1] for line in out.stdout.splitlines() if line.startswith("table")]


def host_mounts():
    """The host mount table as (mount id, mount point, fs type, source) tuples."""
    out = set()
    for line in _read("/proc/self/mountinfo").splitlines():
        left, _, right = line.partition(" - ")
        f, r = left.split(), right.split()
        out.add((f[0], f[4], r[0] if r else "", r[1] if len(r) > 1 else ""))
    return out


def tmp_entries_of_interest(extra_names=()):
    """Entries of host /tmp owned by a sandbox uid, or named like one of our markers."""
    out = set()
    for name in os.listdir("/tmp"):
        path = os.path.join("/tmp", name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if st.st_uid in SANDBOX_UIDS or st.st_gid in SANDBOX_UIDS or name.startswith("sbxsec") \
                or any(n in name for n in extra_names):
            out.add(name)
    return out


class Cgroups:
    """The server's prefix directories in each cgroup v1 hierarchy (or the v2 one)."""

    def __init__(self, server_pid, prefix):
        self.dirs = []
        for line in _read("/proc/%d/cgroup" % server_pid).splitlines():
            _, controllers, path = line.split(":", 2)
            for ctrl in controllers.split(","):
                if ctrl in ("memory", "pids", "cpu", "cpuacct", "freezer"):
                    d = pathlib.Path("/sys/fs/cgroup", ctrl, path.lstrip("/"), prefix)
                elif ctrl == "" and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
                    d = pathlib.Path("/sys/fs/cgroup", path.lstrip("/"), prefix)
                else:
                    continue
                if d.is_dir() and d not in self.dirs:
                    self.dirs.append(d)

    def run_groups(self):
        """{directory: [pids in it]} for every directory below the prefix directories."""
        out = {}
        for d in self.dirs:
            for root, subdirs, _ in os.walk(d):
                for sub in subdirs:
                    path = os.path.join(root, sub)
                    out[path] = [int(x) for x in _read(os.path.join(path, "cgroup.procs")).split()]
        return out

    def remove_prefix_dirs(self):
        for d in self.dirs:
            try:
                os.rmdir(d)
            except OSError:
                pass


def disk_free():
    """Free bytes on the host file systems a leaking write could land on."""
    out = {}
    for p in ("/", "/tmp", "/dev/shm", "/var/tmp", "/root"):
        try:
            st = os.statvfs(p)
            out[p] = st.f_bavail * st.f_frsize
        except OSError:
            pass
    return out


def wait_until(predicate, timeout=3.0, interval=0.05):
    """Poll predicate() until it returns a falsy 'problem' value; return the last problem."""
    deadline = time.monotonic() + timeout
    while True:
        problem = predicate()
        if not problem or time.monotonic() >= deadline:
            return problem
        time.sleep(interval)


# ---------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------

class Response(dict):
    """The /execute JSON with the wall time the request took (`elapsed`)."""

    elapsed = 0.0

    def lines(self):
        return self["stdout"].splitlines()

    def result(self):
        """The JSON object the hostile program printed on its last stdout line."""
        assert self["status"] == "ok", "run did not end ok: %s" % self.brief()
        lines = self.lines()
        assert lines, "no stdout: %s" % self.brief()
        return json.loads(lines[-1])

    def brief(self):
        d = dict(self)
        for k in ("stdout", "stderr"):
            if len(d.get(k) or "") > 2000:
                d[k] = d[k][:2000] + "...[%d chars]" % len(d[k])
        d["files"] = sorted(d.get("files") or {})
        return json.dumps(d, ensure_ascii=False)


class Server:
    def __init__(self, name, extra_env=None):
        binary = os.environ.get("PYSANDBOX_BIN", "")
        if not binary or not os.access(binary, os.X_OK):
            # An attack suite that cannot start its server has tested nothing: fail, never skip.
            pytest.fail("PYSANDBOX_BIN does not name an executable pysandbox binary", pytrace=False)
        self.prefix = (CGROUP_PREFIX + "-" + re.sub(r"[^A-Za-z0-9_-]", "-", name))[:64]
        self.log = []
        self._port = None
        self._ready = threading.Event()
        self.cwd = tempfile.mkdtemp(prefix="pysbx-sec-cwd-")
        with open(os.path.join(self.cwd, "secret.txt"), "w") as f:
            f.write(SECRET + "\n")
        env = dict(os.environ)
        env.update({k: str(v) for k, v in LIMITS.items()})
        env.update({
            "HOST": "127.0.0.1",
            "LOG_LEVEL": "INFO",
            "SANDBOX_UID_BASE": str(UID_BASE),
            "CGROUP_PREFIX": self.prefix,
            "PYSANDBOX_SEC_SECRET": SECRET,
            "AWS_SECRET_ACCESS_KEY": SECRET,
        })
        env.update(extra_env or {})
        self.proc = subprocess.Popen(
            # No --allow-degraded: a server missing an isolation layer refuses to start, and
            # the attacks below rely on every one of them.
            [binary, "serve", "--port", "0", "--code-policy", "off"],
            cwd=self.cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, errors="replace")
        self.pid = self.proc.pid
        threading.Thread(target=self._read_stderr, daemon=True).start()
        if not self._ready.wait(START_TIMEOUT_S) or self._port is None:
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.log[-50:]))
        self.url = "http://127.0.0.1:%d" % self._port
        self.http = requests.Session()
        self._wait_healthy()

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.log.append(line)
            m = LISTENING.search(line)
            if m and self._port is None:
                self._port = int(m.group(1))
                self._ready.set()
        self._ready.set()

    def _wait_healthy(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                r = requests.get(self.url + "/health", timeout=2)
                if r.status_code == 200 and r.json().get("status") == "healthy":
                    # Wait until a run actually works (the zygote is ready).
                    if self.execute("print('warm')", timeout=20)["stdout"] == "warm\n":
                        self._wait_full_zygote(deadline)
                        return
            except (requests.RequestException, ValueError, KeyError):
                pass
            time.sleep(0.2)
        missing = ""
        try:
            layers = requests.get(self.url + "/health", timeout=2).json().get("layers", [])
            missing = "; ".join("%s: %s" % (l["name"], l["detail"]) for l in layers
                                if not l.get("active"))
        except (requests.RequestException, ValueError, KeyError):
            pass
        raise RuntimeError("server never became healthy%s:\n"
                           % (" (missing isolation layers: " + missing + ")" if missing else "")
                           + "".join(self.log[-50:]))

    def _wait_full_zygote(self, deadline):
        """Runs start on a lean zygote while the full one preloads: wait for the full one, so
        that the host baseline is taken in the steady state (zygotes and prepared runs)."""
        def seen(kind):
            return any("zygote ready" in line and "kind=" + kind in line for line in self.log)
        while seen("lean") and not seen("full") and time.monotonic() < deadline:
            time.sleep(0.1)
        self.execute("print('warm')", timeout=20)

    def health(self):
        r = requests.get(self.url + "/health", timeout=5)
        return r.status_code, r.json()

    def assert_healthy(self):
        code, body = self.health()
        assert code == 200, body
        missing = [l for l in body.get("layers", []) if not l.get("active")]
        assert not missing, "isolation layers the attacks rely on are missing: %r" % missing
        assert body.get("status") == "healthy", body
        assert self.proc.poll() is None, "server exited"
        r = self.execute("print(6*7)", timeout=5)
        assert r["status"] == "ok" and r["stdout"] == "42\n", r.brief()

    def post(self, payload, http_timeout=60):
        return self.http.post(self.url + "/execute", json=payload, timeout=http_timeout)

    def execute(self, code, timeout=5, files=None, expect_http=200):
        payload = {"code": code, "timeout": timeout}
        if files is not None:
            payload["files"] = {k: base64.b64encode(v).decode() for k, v in files.items()}
        t0 = time.monotonic()
        r = self.post(payload, http_timeout=timeout + 30)
        elapsed = time.monotonic() - t0
        assert_no_secret(r.content)
        assert r.status_code == expect_http, (r.status_code, r.text[:2000])
        body = Response(r.json())
        body.elapsed = elapsed
        for content in (body.get("files") or {}).values():
            assert_no_secret(base64.b64decode(content))
        return body

    def fd_count(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            os.remove(os.path.join(self.cwd, "secret.txt"))
            os.rmdir(self.cwd)
        except OSError:
            pass


def assert_no_secret(data):
    if isinstance(data, str):
        data = data.encode()
    assert SECRET.encode() not in data, "the server's secret leaked into a response"
    assert base64.b64encode(SECRET.encode())[:24] not in data, "the secret leaked (base64)"
    assert SECRET.encode().hex().encode() not in data, "the secret leaked (hex)"


def _ppid(pid):
    for line in _read("/proc/%d/status" % pid).splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    return None


def _is_prepared(pid):
    """A prepared run's G: run uid, waiting for its program under the name pysbx-ready."""
    ids = _proc_ids(pid)
    return bool(ids) and len(set(ids)) == 1 and ids[0] in RUN_UIDS and \
        _read("/proc/%d/comm" % pid).strip() == "pysbx-ready"


class HostBaseline:
    """What the host looked like once the server was warm; compared after every test.

    The server keeps *prepared runs* ready ahead of requests: a process G, forked from a
    zygote into fresh namespaces, in a fresh run cgroup, already dropped to the run uid
    (one of RUN_UIDS) but named "pysbx-ready" because no program has been sent to it yet.
    Those are allowed (at most MAX_PREPARED of them). Everything else of a run must be gone
    after its response: no other process with a run uid (RUN_UIDS: the uids programs run as),
    no run cgroup that is empty or holds such a process, no sandbox-uid process outside a
    prepared run.
    """

    MAX_PREPARED = 8

    def __init__(self, server):
        self.server = server
        self.cgroups = Cgroups(server.pid, server.prefix)
        assert self.cgroups.dirs or "cgroups inactive" in str(server.health()[1]), \
            "no cgroup directories found for prefix " + server.prefix
        self.processes = set()
        self.prepared = self.stabilize()
        self.zygotes = self.zygote_processes()
        self.mounts = host_mounts()
        self.tmp = tmp_entries_of_interest()
        self.fds = server.fd_count()

    def stabilize(self, timeout=10):
        """Wait until the server's sandbox processes and run groups have not changed for a
        second (prepared runs made); returns the number of prepared runs (run groups)."""
        history = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            history.append((frozenset(sandbox_processes()), frozenset(self.cgroups.run_groups())))
            if len(history) >= 3 and history[-1] == history[-2] == history[-3]:
                break
            time.sleep(0.5)
        self.processes = set(sandbox_processes())
        return len(self.cgroups.run_groups())

    def zygote_processes(self):
        """Sandbox-uid processes whose parent is not one (the zygotes, children of the spawner).
        A process gone by the time its parent is read is none: the last run's G may still be
        exiting right after its response (the server answers from the runner's end report)."""
        procs = sandbox_processes()
        pids = {pid for pid, _ in procs}
        return {k for k in procs if (ppid := _ppid(k[0])) is not None and ppid not in pids}

    def adopt_new_zygotes(self):
        """After a test killed a zygote: its replacement (a child of the server's spawner with
        the zygote uid) joins the baseline. Returns what was adopted; any other new process
        stays a problem."""
        new = {k for k in self.zygote_processes() - self.zygotes
               if _ppid(_ppid(k[0]) or 0) == self.server.pid and
               set(_proc_ids(k[0]) or ()) == {UID_BASE}}
        self.zygotes |= new
        self.processes |= new
        return new

    def problems(self, markers=()):
        out = []
        procs = sandbox_processes()
        groups = self.cgroups.run_groups()
        in_groups = {pid for members in groups.values() for pid in members}
        prepared_g = {pid for pid, _ in procs if pid in in_groups and _is_prepared(pid)}
        for (pid, start), desc in procs.items():
            ids = _proc_ids(pid) or ()
            if any(u in RUN_UIDS for u in ids) and pid not in prepared_g:
                out.append("a run's process is alive: %s" % desc)
            elif (pid, start) not in self.processes and pid not in prepared_g:
                out.append("sandbox process outside any prepared run: %s" % desc)
        if len(prepared_g) > self.MAX_PREPARED:
            out.append("%d prepared runs (more than %d)" % (len(prepared_g), self.MAX_PREPARED))
        for path, members in sorted(groups.items()):
            if not members:
                out.append("empty run cgroup left: %s" % path)
            elif any(any(u in RUN_UIDS for u in (_proc_ids(p) or ())) and p not in prepared_g
                     for p in members):
                out.append("run cgroup with a running program: %s %s" % (path, members))
        for m in markers:
            found = processes_with(m)
            if found:
                out.append("processes with marker %s: %s" % (m, found))
            for d in ("/tmp", "/", "/root", "/var/tmp", "/dev/shm", self.server.cwd):
                try:
                    names = [n for n in os.listdir(d) if m in n]
                except OSError:
                    names = []
                if names:
                    out.append("host %s holds %s" % (d, names))
        # The network tests' own test hosts (nethosts.py) are named namespaces: not the runs'.
        new_mounts = {m for m in host_mounts() - self.mounts
                      if m[1] != "/run/netns" and not m[1].startswith("/run/netns/sbx")}
        if new_mounts:
            out.append("new host mounts: %s" % sorted(new_mounts))
        new_tmp = tmp_entries_of_interest(markers) - self.tmp
        if new_tmp:
            out.append("new host /tmp entries: %s" % sorted(new_tmp))
        return out

    def assert_clean(self, *markers, timeout=3.0):
        problems = wait_until(lambda: self.problems(markers), timeout=timeout)
        assert not problems, "host not clean after the run:\n  " + "\n  ".join(problems)


@pytest.fixture(scope="session")
def server(request):
    name = pathlib.Path(str(request.config.args[0]) if request.config.args else "suite").stem
    before = set(sandbox_processes())  # e.g. a server of a previous file still shutting down
    first = request.session.items[0].module if request.session.items else None
    s = Server(name, getattr(first, "SERVER_ENV", None))  # a test file may add settings
    s.baseline = HostBaseline(s)
    yield s
    # After the whole file: still healthy, the host as before, fds back at the baseline.
    try:
        s.assert_healthy()
        s.baseline.assert_clean()
        prepared = s.baseline.stabilize()
        # Each prepared run holds a few fds in the server (run socket, pidfd, work dir, cgroup
        # files): allow for a different number of prepared runs than at the baseline.
        slack = FD_SLACK + FDS_PER_PREPARED_RUN * abs(prepared - s.baseline.prepared)
        fd_diff = wait_until(lambda: abs(s.fd_count() - s.baseline.fds) > slack and
                             "server fds %d vs baseline %d (prepared runs %d vs %d)" % (
                                 s.fd_count(), s.baseline.fds, prepared, s.baseline.prepared),
                             timeout=3)
        assert not fd_diff, fd_diff
    finally:
        s.stop()
        leftover = wait_until(lambda: [v for k, v in sandbox_processes().items() if k not in before],
                              timeout=5)
        groups = wait_until(lambda: sorted(s.baseline.cgroups.run_groups()), timeout=3)
        s.baseline.cgroups.remove_prefix_dirs()
        links = wait_until(egress_links, timeout=5)
        tables = [t for t in nft_tables() if t.endswith(re.sub(r"[^A-Za-z0-9]", "_", s.prefix))]
        assert not leftover, "sandbox processes alive after the server stopped: %s" % leftover
        assert not groups, "run cgroups left after the server stopped: %s" % groups
        assert not links, "egress network stacks alive after the server stopped: %s" % links
        assert not tables, "egress firewall table left after the server stopped: %s" % tables


@pytest.fixture(autouse=True)
def host_clean(server):
    """After every test: the host holds nothing of the runs (a test adds its markers)."""
    markers = []
    yield markers
    server.baseline.assert_clean(*markers)
    assert server.proc.poll() is None, "the server died:\n" + "".join(server.log[-30:])


@pytest.fixture
def run(server):
    return server.execute
