#!/usr/bin/python3
"""bench/link_start.py — what starting a run's network stack (slirp4netns) costs, step by step:
as before issue 21 (fork + exec), joining the run's cgroups first (one cgroup.procs write per
hierarchy), starting in a private mount namespace, and both (what the server does now). The
variants are interleaved in one run (A/B against the same background); prints p50/p90 of the
time from fork to slirp4netns's ready byte, and the ratios to the first variant.

    bench/link_start.py [--rounds 30]

Run as root on a host with slirp4netns; makes a scratch cgroup per hierarchy under
"bench-link-start-<pid>" (removed at the end). No network traffic.
"""
import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import time

CLONE_NEWNS = 0x20000
MS_REC, MS_PRIVATE = 1 << 14, 1 << 18
SLIRP = "/usr/bin/slirp4netns"
libc = ctypes.CDLL(None, use_errno=True)


def scratch_groups(name):
    """One directory per cgroup v1 hierarchy (memory, pids, cpu, cpuacct, freezer), or the v2
    group, below this process's own cgroups."""
    own = {}
    for line in open("/proc/self/cgroup").read().splitlines():
        _, ctrls, path = line.split(":", 2)
        for c in ctrls.split(","):
            own[c] = path
    dirs = []
    for ctrl in ("memory", "pids", "cpu", "cpuacct", "freezer"):
        base = "/sys/fs/cgroup/%s" % ctrl
        if ctrl in own and os.path.exists(base + "/cgroup.procs"):
            dirs.append(base + own[ctrl].rstrip("/") + "/" + name)
    if not dirs and "" in own:
        dirs.append("/sys/fs/cgroup" + own[""].rstrip("/") + "/" + name)
    for d in dirs:
        os.makedirs(d, exist_ok=True)
    return dirs


def start(netns_pid, groups, private_mounts):
    """ms from fork to the ready byte of one slirp4netns (then killed)."""
    r, w = os.pipe()
    fds = [os.open(d + "/cgroup.procs", os.O_WRONLY) for d in groups]
    t = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        for fd in fds:
            os.write(fd, b"0")
        if private_mounts:
            libc.unshare(CLONE_NEWNS)
            libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None)
        os.dup2(w, 4)
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.execv(SLIRP, [SLIRP, "--configure", "--mtu=65520", "--disable-host-loopback",
                         "--enable-sandbox", "--enable-seccomp", "--ready-fd=4", str(netns_pid),
                         "tap%d" % os.getpid()])
    os.close(w)
    for fd in fds:
        os.close(fd)
    os.read(r, 1)
    ms = (time.perf_counter() - t) * 1000
    os.close(r)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return ms


def main():
    ap = argparse.ArgumentParser(prog="bench/link_start.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    if not os.access(SLIRP, os.X_OK):
        sys.exit("needs " + SLIRP)
    holder = subprocess.Popen(["unshare", "-n", "sleep", "3600"])  # the "run's" network ns
    groups = []
    try:
        time.sleep(0.2)
        groups = scratch_groups("bench-link-start-%d" % os.getpid())
        variants = [("fork + exec (before)", [], False), ("+ join run cgroups", groups, False),
                    ("+ private mount ns", [], True), ("both (now)", groups, True)]
        times = {v[0]: [] for v in variants}
        for _ in range(args.rounds):
            for name, g, priv in variants:
                times[name].append(start(holder.pid, g, priv))
        base = statistics.median(times[variants[0][0]])
        print("%d rounds, %d cgroup directories joined" % (args.rounds, len(groups)))
        for name, _, _ in variants:
            t = sorted(times[name])
            p50 = statistics.median(t)
            print("%-22s p50 %6.2f ms  p90 %6.2f ms  ratio %.2f" % (
                name, p50, t[int(len(t) * 0.9)], p50 / base))
    finally:
        holder.kill()
        holder.wait()
        time.sleep(0.1)
        for d in groups:
            try:
                os.rmdir(d)
            except OSError:
                pass


if __name__ == "__main__":
    main()
