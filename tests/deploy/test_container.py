"""The container image with podman: built from the .deb, run with the documented least-privilege
flags (one run and one egress run through its HTTP port on loopback), and the systemd unit run
for real by systemd inside the image.

No registry is reachable here: the base image (container_base.py: Debian minbase plus the
runtime packages and systemd, made with mmdebstrap) is imported once; it is kept, with the other
images, in a podman storage of its own under the build tree (PYSANDBOX_DEPLOY_CACHE), so that
later runs only rebuild the layer holding the .deb. Nothing goes to the developer's podman
storage, and the containers use slirp4netns networking (no bridge, no host firewall rules).
"""
import fcntl
import json
import os
import re
import resource
import shutil
import time

import pytest

import container_base
from deploylib import (CGROUP_PREFIX, ROOT, UID_BASE, execute, free_port, log, sh,
                       the_deb, wait_healthy)

CACHE = os.environ["PYSANDBOX_DEPLOY_CACHE"]
PODMAN = container_base.podman_command(CACHE)
RUNROOT = PODMAN[-1]
IMAGE = "localhost/pysandbox-test:latest"
# The documented flags (docs/OPERATIONS.md, "Container"): the fewest that work.
LEAST_PRIVILEGE = ["--cap-drop=all", "--cap-add=SYS_ADMIN,SETUID,SETGID,DAC_OVERRIDE",
                   "--cgroupns=private", "--security-opt=no-new-privileges", "--read-only"]
EGRESS = ["--cap-add=NET_ADMIN,NET_BIND_SERVICE,SETPCAP", "--device=/dev/net/tun"]
EGRESS_CODE = ("import urllib.request\n"
               "print(urllib.request.urlopen('http://%s:8000/health', timeout=10).status)")


def podman(*args, **kw):
    return sh(*PODMAN, *args, **kw)


def ulimits():
    # The engine's default limits are above what this process may set (no CAP_SYS_RESOURCE).
    # 1024 processes: root in the container (the server) is exempt; all runs together use less.
    nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 65536)
    return ["--ulimit", "nofile=%d:%d" % (nofile, nofile), "--ulimit", "nproc=1024:1024"]


def settings_env(**extra):
    env = {"CGROUP_PREFIX": CGROUP_PREFIX, "SANDBOX_UID_BASE": UID_BASE, **extra}
    return [a for k, v in env.items() for a in ("-e", "%s=%s" % (k, v))]


@pytest.fixture(scope="module")
def engine():
    for tool in ("podman", "runc", "mmdebstrap"):
        if not shutil.which(tool):
            pytest.fail("%s is missing: scripts/setup.sh installs it" % tool)
    os.makedirs(CACHE, exist_ok=True)
    lock = open(os.path.join(CACHE, "lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)  # one user of this storage at a time
    yield
    podman("container", "rm", "-a", "-f", "-t", "0", check=False)
    podman("image", "prune", "-f", check=False)  # the previous builds' layers
    for path in NETNS_FILES:
        remove_orphan_netns(path)
    shutil.rmtree(RUNROOT, ignore_errors=True)  # runtime state only; images stay in STORAGE
    fcntl.flock(lock, fcntl.LOCK_UN)


NETNS_FILES = []


def remove_orphan_netns(path):
    """podman's /run/netns/<name> of a container that is gone. Its bind mount can vanish
    before (a process elsewhere that detaches the host's shared mounts, such as slirp4netns
    without a mount namespace of its own); podman then cannot clean up the file."""
    with open("/proc/self/mountinfo") as f:
        mounted = any(line.split()[4] == path for line in f)
    if not mounted and os.path.isfile(path):
        os.unlink(path)


@pytest.fixture(scope="module")
def image(engine):
    try:
        base = container_base.base_image(CACHE, log)
    except RuntimeError as e:
        pytest.fail(str(e))
    t0 = time.monotonic()
    env = dict(os.environ, ENGINE="podman", PODMAN_ARGS=" ".join(PODMAN[1:]))
    sh(os.path.join(ROOT, "scripts", "build-image.sh"), "--deb", the_deb(), "--tag", IMAGE,
       "--base", base, "--", "-q", env=env, timeout=900)
    log("image built in %.0f s" % (time.monotonic() - t0))
    return IMAGE


def started(name, *args):
    podman("run", "-d", "--name", name, *ulimits(), *args)
    key = podman("inspect", "-f", "{{.NetworkSettings.SandboxKey}}", name, check=False).stdout
    if key.strip().startswith("/run/netns/"):
        NETNS_FILES.append(key.strip())
    return name


def stop(name, timeout=30):
    podman("stop", "-t", str(timeout), name, check=False)
    state = json.loads(podman("inspect", name).stdout)[0]["State"]
    return state["ExitCode"], podman("logs", name, check=False).stderr


def test_documented_flags_are_the_tested_ones():
    with open(os.path.join(ROOT, "docs", "OPERATIONS.md")) as f:
        doc = f.read()
    for flag in LEAST_PRIVILEGE + EGRESS:
        assert flag in doc, "docs/OPERATIONS.md does not show " + flag


def test_least_privilege_container_serves_runs_and_egress(image):
    port = free_port()
    # slirp4netns with its own range: the container's address is known in advance (.100).
    name = started("pysandbox-test-least", *LEAST_PRIVILEGE, *EGRESS,
                   "--network", "slirp4netns:cidr=10.41.0.0/24", "-p", "127.0.0.1:%d:8000" % port,
                   *settings_env(NETWORK_MODE="egress", NETWORK_ALLOW="10.41.0.100:8000",
                                 NETWORK_DNS="10.41.0.3"),
                   image)
    try:
        base = "http://127.0.0.1:%d" % port
        def running():
            return podman("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "true"

        health = wait_healthy(base, alive=running)
        assert all(layer["active"] for layer in health["layers"]), health["layers"]
        out = execute(base, "import os\nprint(os.getuid(), os.getcwd())")
        assert out["status"] == "ok" and out["stdout"] == "1000 /work\n", out
        # Egress through slirp4netns and the nftables table, to the container's own address.
        out = execute(base, EGRESS_CODE % "10.41.0.100")
        assert out["status"] == "ok" and out["stdout"] == "200\n", out
    finally:
        code, logs = stop(name)
    assert code == 0 and "event=stopped" in logs, logs[-3000:]
    log("not exercised here: AppArmor (not in this kernel), so --security-opt apparmor=unconfined;"
        " cgroup v2 delegation (this host is v1 hybrid: the entrypoint's v1 path ran)"
        if not os.path.exists("/sys/fs/cgroup/cgroup.controllers") else
        "not exercised here: AppArmor (not in this kernel)")


# What the unit keeps (deploy/debian/pysandbox.service: CapabilityBoundingSet).
UNIT_CAPS = {"CAP_SYS_ADMIN": 21, "CAP_SETUID": 7, "CAP_SETGID": 6, "CAP_DAC_OVERRIDE": 1,
             "CAP_NET_ADMIN": 12, "CAP_NET_BIND_SERVICE": 10, "CAP_SETPCAP": 8}
IN_CONTAINER_PROBE = r"""
import json, sys, time, urllib.request
base = "http://127.0.0.1:8000"
def post(code):
    req = urllib.request.Request(base + "/execute", json.dumps({"code": code}).encode(),
                                 {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=60))
for _ in range(300):
    try:
        if json.load(urllib.request.urlopen(base + "/health", timeout=2))["status"] == "healthy":
            break
    except OSError:
        pass
    time.sleep(0.2)
print(json.dumps({"run": post("import os\nprint(os.getuid())"), "egress": post(sys.argv[1])}))
"""


def test_systemd_runs_the_hardened_unit(image):
    # --privileged lets systemd (pid 1 of the container) apply the unit's own sandboxing: what
    # is tested is the unit, not these flags.
    name = started("pysandbox-test-systemd", "--privileged", "--systemd=always",
                   "--cgroupns=private", "--network", "slirp4netns:cidr=10.42.0.0/24",
                   "--entrypoint", "/lib/systemd/systemd", image)
    try:
        deadline = time.monotonic() + 120
        while True:  # until systemd answers on its socket and has finished booting
            r = podman("exec", name, "systemctl", "is-system-running", "--wait", check=False)
            state = r.stdout.strip()
            if state in ("running", "degraded") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert state in ("running", "degraded"), (state, r.stderr)
        settings = ("PORT=8000\nHOST=0.0.0.0\nCGROUP_PREFIX=%s\nSANDBOX_UID_BASE=%s\n"
                    "NETWORK_MODE=egress\nNETWORK_ALLOW=10.42.0.100:8000\nNETWORK_DNS=10.42.0.3\n"
                    % (CGROUP_PREFIX, UID_BASE))
        podman("exec", name, "sh", "-c", "printf '%s' >> /etc/pysandbox/pysandbox.env" % settings)
        podman("exec", name, "systemctl", "start", "pysandbox")
        probe = podman("exec", name, "python3", "-c", IN_CONTAINER_PROBE,
                       EGRESS_CODE % "10.42.0.100", check=False, timeout=120)
        journal = podman("exec", name, "journalctl", "-u", "pysandbox", "--no-pager", check=False)
        assert probe.returncode == 0, probe.stderr + journal.stdout[-3000:]
        result = json.loads(probe.stdout)
        assert result["run"]["stdout"] == "1000\n", (result, journal.stdout[-3000:])
        assert result["egress"]["stdout"] == "200\n", (result, journal.stdout[-3000:])

        pid = podman("exec", name, "systemctl", "show", "-p", "MainPID", "--value",
                     "pysandbox").stdout.strip()
        status = podman("exec", name, "cat", "/proc/%s/status" % pid).stdout
        fields = dict(l.split(":\t", 1) for l in status.splitlines() if ":\t" in l)
        assert fields["NoNewPrivs"].strip() == "1" and fields["Seccomp"].strip() == "2", fields
        assert int(fields["CapBnd"], 16) == sum(1 << b for b in UNIT_CAPS.values()), fields
        mounts = podman("exec", name, "cat", "/proc/%s/mountinfo" % pid).stdout
        assert re.search(r"^\S+ \S+ \S+ \S+ / ro,", mounts, re.M), "ProtectSystem: / is writable"

        podman("exec", name, "systemctl", "stop", "pysandbox", timeout=400)
        shown = podman("exec", name, "systemctl", "show", "pysandbox", "-p", "Result",
                       "-p", "ExecMainStatus", "-p", "ActiveState").stdout
        assert "Result=success" in shown and "ExecMainStatus=0" in shown, shown
        assert "ActiveState=inactive" in shown, shown
        left = podman("exec", name, "sh", "-c", "find /sys/fs/cgroup -type d -path "
                      "'*/pysandbox.service*'; ls -d /run/pysandbox-stage* 2>/dev/null",
                      check=False).stdout.split()
        assert not left, "left behind after stop: %s" % left
    finally:
        podman("rm", "-f", "-t", "0", name, check=False)
