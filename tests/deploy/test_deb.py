"""The Debian package on this machine: lintian, install, selftest, the service, remove, purge.

systemd is not pid 1 here, so the service is started the way its unit says (ExecStart with
EnvironmentFile, LimitNOFILE, RuntimeDirectory, working directory /, SIGTERM to the main process
only and TimeoutStopSec) and the unit file itself is checked with `systemd-analyze verify`. The
unit's hardening runs for real under systemd in test_container.py.

The package is installed system-wide, so one run at a time on the machine (a lock in /run/lock),
and never over an installation this test did not make (it fails instead: purging it would
remove someone's service).
"""
import fcntl
import hashlib
import os
import re
import resource
import shlex
import signal
import subprocess
import time

import pytest

from deploylib import CGROUP_PREFIX, UID_BASE, execute, free_port, log, sh, the_deb, wait_healthy

UNIT = "/lib/systemd/system/pysandbox.service"
ENV_FILE = "/etc/pysandbox/pysandbox.env"
STATE_DIR = "/var/lib/pysandbox"
MARKER = STATE_DIR + "/.installed-by-deploy-test"  # STATE_DIR goes on purge, so does this
APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=300",
       "-o", "Dpkg::Options::=--force-confold"]
SHARED_RUNTIME_DIRS = ("/run/pysandbox-stage", "/run/pysandbox-stage-runtime")
ACCOUNT_FILES = ("/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow")


def dpkg(*args):
    """dpkg has no lock timeout of its own: retry while apt or dpkg runs elsewhere."""
    deadline = time.monotonic() + 300
    while True:
        r = sh("dpkg", *args, check=False)
        if r.returncode == 0 or "lock" not in r.stderr or time.monotonic() > deadline:
            assert r.returncode == 0, "dpkg %s: %s%s" % (" ".join(args), r.stdout, r.stderr)
            return r
        time.sleep(1)


def dpkg_status():
    r = sh("dpkg-query", "-W", "-f=${Status}", "pysandbox", check=False)
    return r.stdout.strip() if r.returncode == 0 else "not-installed"


def digest(paths):
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def systemd_helper_state():
    found = []
    for d in ("/var/lib/systemd/deb-systemd-helper-enabled",
              "/var/lib/systemd/deb-systemd-helper-masked", "/etc/systemd/system"):
        for dirpath, _, files in os.walk(d):
            found += [os.path.join(dirpath, f) for f in files if f.startswith("pysandbox.service")]
    return sorted(found)


def our_processes():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink("/proc/%s/exe" % pid).startswith("/usr/lib/pysandbox/"):
                found.append(int(pid))
        except OSError:
            pass
    return found


def our_cgroups():
    found = []
    for dirpath, dirs, _ in os.walk("/sys/fs/cgroup"):
        found += [os.path.join(dirpath, d) for d in dirs if d == CGROUP_PREFIX]
    return found


@pytest.fixture(scope="module")
def lintian():
    """lintian runs meanwhile (~10 s, mostly waiting): test_lintian_* reads its result last."""
    proc = subprocess.Popen(["lintian", "--pedantic", "-I", the_deb()], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


@pytest.fixture(scope="module")
def installed(lintian):
    os.makedirs("/run/lock", exist_ok=True)
    lock = open("/run/lock/pysandbox-deploy-deb.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)  # another run of this test elsewhere: wait for it
    ours = False  # purge at the end only what this test installed
    try:
        if dpkg_status() != "not-installed":
            if not os.path.exists(MARKER):
                pytest.fail("pysandbox is installed on this machine (%s), not by this test: "
                            "it would replace and purge it. Purge it first." % dpkg_status())
            log("purging an installation a previous run of this test left behind")
            sh(*APT, "purge", "pysandbox")
        before = {"accounts": digest(ACCOUNT_FILES), "systemd": systemd_helper_state()}
        t0 = time.monotonic()
        ours = True
        sh(*APT, "install", "--no-install-recommends", the_deb(),
           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        log("installed in %.1f s" % (time.monotonic() - t0))
        with open(MARKER, "w"):
            pass
        yield before
    finally:
        if ours and dpkg_status() != "not-installed":
            sh(*APT, "purge", "pysandbox", check=False)
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


def test_files_depends_and_conffile(installed):
    assert os.path.realpath("/usr/bin/pysandbox") == "/usr/lib/pysandbox/pysandbox"
    assert os.path.isfile("/usr/lib/pysandbox/runtime/zygote.py")
    assert os.path.isfile(UNIT)
    assert sh("dpkg-query", "-W", "-f=${Conffiles}", "pysandbox").stdout.split()[0] == ENV_FILE
    assert oct(os.stat(STATE_DIR).st_mode & 0o777) == "0o750"
    depends = sh("dpkg-query", "-W", "-f=${Depends}", "pysandbox").stdout
    for name in ("libc6", "libseccomp2", "libnftables1", "python3", "python3-numpy", "slirp4netns"):
        assert re.search(r"\b%s\b" % re.escape(name), depends), (name, depends)
    # Every setting, commented out: the binary's defaults apply until one is chosen.
    with open(ENV_FILE) as f:
        text = f.read()
    assert not [l for l in text.splitlines() if l and not l.startswith("#")]
    assert "#MAX_TIMEOUT=300" in text and "#PORT=8000" in text


def test_selftest_from_installed_paths(installed):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CGROUP_PREFIX": CGROUP_PREFIX,
           "SANDBOX_UID_BASE": UID_BASE}
    r = sh("pysandbox", "selftest", env=env, cwd="/", check=False)
    assert r.returncode == 0 and "all isolation layers active" in r.stdout, r.stdout + r.stderr


def test_unit_file_verifies(installed):
    r = sh("systemd-analyze", "verify", UNIT, check=False)
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr


def read_unit(path):
    """[Service] of a unit: key -> list of values (continuation lines joined)."""
    values, section, pending = {}, None, ""
    with open(path) as f:
        for raw in f:
            line = pending + raw.rstrip("\n")
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            pending = ""
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]")
            elif section == "Service":
                key, _, value = line.partition("=")
                values.setdefault(key.strip(), []).append(value.strip())
    return values


def read_environment_file(path):
    """systemd's EnvironmentFile= syntax as this package uses it: NAME=value, # comments."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;" or "=" not in line:
                continue
            key, _, value = line.partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            env[key.strip()] = value
    return env


def start_as_the_unit(unit):
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    # Environment= first, EnvironmentFile= over it (systemd's order); %S is the state root.
    for line in unit.get("Environment", []):
        for item in shlex.split(line.replace("%S", "/var/lib")):
            key, _, value = item.partition("=")
            env[key] = value
    for f in unit.get("EnvironmentFile", []):
        if os.path.exists(f.lstrip("-")) or not f.startswith("-"):
            env.update(read_environment_file(f.lstrip("-")))
    for d in " ".join(unit.get("RuntimeDirectory", [])).split():
        os.makedirs("/run/" + d, mode=int(unit["RuntimeDirectoryMode"][-1], 8), exist_ok=True)
    nofile = int(unit["LimitNOFILE"][-1])
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if nofile > hard:  # systemd (pid 1) may raise it; this process may lack CAP_SYS_RESOURCE
        log("LimitNOFILE=%d: this machine's hard limit %d is used instead" % (nofile, hard))
        nofile = hard

    def in_child():
        os.setsid()  # the service's "cgroup": everything it starts stays in this session
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    argv = shlex.split(unit["ExecStart"][-1])
    return subprocess.Popen(argv, env=env, cwd=unit.get("WorkingDirectory", ["/"])[-1],
                            preexec_fn=in_child, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def session_members(sid):
    members = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.getsid(int(pid)) == sid:
                members.append(int(pid))
        except OSError:
            pass
    return members


def test_service_as_the_unit_starts_it(installed):
    unit = read_unit(UNIT)
    assert unit["ExecStart"] == ["/usr/bin/pysandbox serve"]
    assert unit["EnvironmentFile"] == ["-" + ENV_FILE]
    assert unit["KillMode"] == ["mixed"] and unit["Restart"] == ["on-failure"]
    assert unit["Delegate"] == ["yes"]
    port = free_port()
    with open(ENV_FILE, "a") as f:  # what an administrator does: choose settings in the file
        f.write("PORT=%d\nCGROUP_PREFIX=%s\nSANDBOX_UID_BASE=%s\n"
                % (port, CGROUP_PREFIX, UID_BASE))
    proc = start_as_the_unit(unit)
    try:
        base = "http://127.0.0.1:%d" % port
        wait_healthy(base, alive=lambda: proc.poll() is None)
        out = execute(base, "import os\nprint(os.getuid(), sum(range(10)))")
        assert out["status"] == "ok" and out["stdout"] == "1000 45\n", out
    finally:
        proc.send_signal(signal.SIGTERM)  # KillMode=mixed: the main process only
        try:
            code = proc.wait(timeout=int(unit["TimeoutStopSec"][-1]))
        finally:
            log_text = proc.stdout.read()
    assert code == 0, log_text[-3000:]
    assert "event=stopped" in log_text, log_text[-3000:]
    deadline = time.monotonic() + 5
    while session_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = session_members(proc.pid)
    for pid in left:  # what systemd's final SIGKILL would do, after recording the failure
        os.kill(pid, signal.SIGKILL)
    assert not left, "processes outlived the server: %s" % left
    assert not our_cgroups(), our_cgroups()


def test_maintainer_scripts_are_idempotent(installed):
    # Reinstall = the upgrade path (prerm upgrade, postinst configure <old>); then configure again.
    dpkg("--force-confold", "-i", the_deb())
    sh("/var/lib/dpkg/info/pysandbox.postinst", "configure", "0.0.0")
    sh("/var/lib/dpkg/info/pysandbox.postinst", "configure", "0.0.0")
    assert os.path.exists(MARKER), "the state directory was replaced"
    with open(ENV_FILE) as f:
        assert "CGROUP_PREFIX=%s\n" % CGROUP_PREFIX in f.read(), "the administrator's settings went"


def test_remove_keeps_state_purge_removes_everything(installed):
    files = sh("dpkg-query", "-L", "pysandbox").stdout.split("\n")
    ours = [f for f in files if f.startswith(("/usr/lib/pysandbox", "/usr/share/doc/pysandbox",
                                              "/lib/systemd/system/pysandbox", "/usr/bin/pysandbox",
                                              "/usr/share/man/man8/pysandbox"))]
    assert ours
    dpkg("--remove", "pysandbox")
    assert dpkg_status() == "deinstall ok config-files"
    assert os.path.exists(MARKER), "remove deleted the state"
    assert os.path.exists(ENV_FILE), "remove deleted the conffile"
    left = [f for f in ours if os.path.lexists(f) and not os.path.isdir(f)]
    assert not left, "remove left package files: %s" % left

    dpkg("--purge", "pysandbox")
    assert dpkg_status() == "not-installed"
    for path in ("/etc/pysandbox", STATE_DIR, "/usr/lib/pysandbox", "/usr/share/doc/pysandbox",
                 UNIT):
        assert not os.path.lexists(path), path + " survived purge"
    assert digest(ACCOUNT_FILES) == installed["accounts"], "users or groups changed"
    assert systemd_helper_state() == installed["systemd"], systemd_helper_state()
    assert not our_processes(), our_processes()
    assert not our_cgroups(), our_cgroups()
    # SHARED_RUNTIME_DIRS: tmpfs mount points every pysandbox server on the host shares (systemd
    # creates and removes them around the service); not the package's, so not checked here.


def test_lintian_reports_no_error_or_warning(lintian):
    # Justified warnings are overridden in the package (deploy/debian/lintian-overrides).
    out, _ = lintian.communicate(timeout=300)
    issues = [l for l in out.splitlines() if re.match(r"^[EW]: ", l)]
    assert not issues and lintian.returncode == 0, out
