"""The base image of the container tests: Debian minbase with deploy/runtime-depends and systemd,
made with mmdebstrap (no registry is reachable here) and imported into the tests' own podman
storage, kept there for later runs.

It does not depend on the build, so ./test.sh starts it in the background before compiling
(`container_base.py CACHE_DIR`): downloading and unpacking ~1 GB of packages is network and disk
time that the compilation hides. test_container.py then finds it made, or makes it itself.
"""
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Mirrors the bookworm-slim image the Containerfile defaults to.
SLIM = ["path-exclude=/usr/share/doc/*", "path-include=/usr/share/doc/*/copyright",
        "path-exclude=/usr/share/man/*", "path-exclude=/usr/share/info/*",
        "path-exclude=/usr/share/locale/*", "path-include=/usr/share/locale/locale.alias"]
TAG_PREFIX = "localhost/pysandbox-test-base:"


def podman_command(cache):
    storage = os.path.join(cache, "podman-storage")
    runroot = "/run/pysandbox-deploy-podman-" + hashlib.sha256(cache.encode()).hexdigest()[:10]
    return ["podman", "--runtime", "runc", "--root", storage, "--runroot", runroot]


def packages():
    with open(os.path.join(ROOT, "deploy", "runtime-depends")) as f:
        names = {line.strip() for line in f if line.strip() and not line.startswith("#")}
    return sorted(names | {"systemd"})  # systemd: the unit is tested under it


def base_image(cache, log=print):
    """The base image's tag, made now if the storage does not hold it. The caller holds the
    storage's lock (cache/lock)."""
    podman = podman_command(cache)
    names = packages()
    tag = TAG_PREFIX + hashlib.sha256(json.dumps([names, SLIM]).encode()).hexdigest()[:12]
    if subprocess.run([*podman, "image", "exists", tag]).returncode == 0:
        log("base image %s: cached" % tag)
        return tag
    t0 = time.monotonic()
    listed = subprocess.run([*podman, "images", "--format", "{{.Repository}}:{{.Tag}}"],
                            capture_output=True, text=True).stdout.split()
    for old in (name for name in listed if name.startswith(TAG_PREFIX)):
        subprocess.run([*podman, "rmi", "-f", old], capture_output=True)
    # A tmpfs for mmdebstrap's chroot when there is room: unpacking ~270 packages is I/O-bound.
    # Its tar goes straight into podman import (no 1.3 GB file written and read back).
    shm = os.statvfs("/dev/shm")
    tmpdir = "/dev/shm" if shm.f_bavail * shm.f_frsize > 6 << 30 else cache
    debootstrap = subprocess.Popen(
        ["mmdebstrap", "--variant=minbase", "--quiet", "--skip=cleanup/apt/lists",
         "--aptopt=Apt::Install-Recommends \"false\"", *["--dpkgopt=" + o for o in SLIM],
         "--include=" + ",".join(names), "--format=tar", "bookworm", "-"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, TMPDIR=tmpdir))
    imported = subprocess.run([*podman, "import", "-q", "-", tag], stdin=debootstrap.stdout,
                              capture_output=True, text=True, timeout=1800)
    debootstrap.stdout.close()
    err = debootstrap.stderr.read().decode(errors="replace")
    if debootstrap.wait(timeout=60) != 0 or imported.returncode != 0:
        subprocess.run([*podman, "rmi", "-f", tag], capture_output=True)  # never a truncated tar
        raise RuntimeError("base image: mmdebstrap %s, podman import %s\n%s\n%s" % (
            debootstrap.returncode, imported.returncode, err[-3000:], imported.stderr[-3000:]))
    log("base image %s made in %.0f s (mmdebstrap piped into podman import)"
        % (tag, time.monotonic() - t0))
    return tag


def main(cache):
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one user of this storage at a time
        try:
            base_image(cache)
        finally:
            runroot = podman_command(cache)[-1]
            subprocess.run(["rm", "-rf", runroot])  # runtime state only; images stay
    return 0


if __name__ == "__main__":
    sys.exit(main(os.path.abspath(sys.argv[1])))
