"""Run (G) before `ready`: join the cgroups, hostname, socket buffer caps, own /work /tmp
/dev/shm /proc, lo up."""
import errno
import fcntl
import os
import socket
import struct

from .syscalls import (CLONE_NEWCGROUP, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC,
                       MS_REMOUNT, SetupError, mount, sethostname, unshare)

_MASKED = (b"/proc/kcore", b"/proc/keys", b"/proc/timer_list", b"/proc/sched_debug",
           b"/proc/kallsyms", b"/proc/latency_stats", b"/proc/timer_stats")
# Directories about the host's hardware (as Docker masks them): an empty read-only tmpfs.
_MASKED_DIRS = (b"/proc/acpi", b"/proc/scsi", b"/proc/asound")
_READ_ONLY = (b"/proc/sys", b"/proc/sysrq-trigger", b"/proc/irq", b"/proc/bus", b"/proc/fs")
_PROC_FLAGS = MS_NOSUID | MS_NODEV | MS_NOEXEC
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_LO_UP = struct.pack("16sh22x", b"lo", _IFF_UP)  # struct ifreq: name, ifr_flags


def join_cgroups(cgroup_fds):
    """Move this process into each cgroup (`0` = the writer) and close the fds."""
    for fd in cgroup_fds:
        try:
            os.write(fd, b"0")
        except OSError as e:
            raise SetupError("cgroup_join", e.errno, "fd %d" % fd) from None
        os.close(fd)


def mount_filesystems(run):
    """Private propagation, then tmpfs /work, /tmp, /dev/shm, a new /proc and its masks."""
    mount(None, b"/", None, MS_REC | MS_PRIVATE, None, "mount_private")
    # The run's own ids in the zygote's user namespace: uid/gid 1000 in the run's namespace.
    uid = int(run.get("outer_uid", run.get("uid", 1000)))
    gid = int(run.get("outer_gid", run.get("gid", 1000)))
    work = "size=%d,nr_inodes=%d,uid=%d,gid=%d,mode=0755" % (
        int(run["workdir_bytes"]), int(run["workdir_inodes"]), uid, gid)
    mount(b"tmpfs", b"/work", b"tmpfs", MS_NOSUID | MS_NODEV, work.encode(), "mount_tmpfs")
    # /tmp and /dev/shm get the same size and inode caps as the work dir's budget: they are
    # memory too, and 100k empty files must hit a limit there as well.
    tmp = ("size=%d,nr_inodes=%d,mode=1777" % (int(run["tmp_bytes"]), int(run["workdir_inodes"]))).encode()
    mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, tmp, "mount_tmpfs")
    mount(b"tmpfs", b"/dev/shm", b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, tmp, "mount_tmpfs")
    mount(b"proc", b"/proc", b"proc", _PROC_FLAGS, None, "mount_proc")
    for path in _MASKED:
        _optional(mount, b"/dev/null", path, None, MS_BIND, None, "mask_proc")
    for path in _MASKED_DIRS:
        _optional(mount, b"tmpfs", path, b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  b"size=0,nr_inodes=1", "mask_proc")
    for path in _READ_ONLY:
        if _optional(mount, path, path, None, MS_BIND | MS_REC, None, "mask_proc"):
            # The remount must repeat the locked nosuid/nodev/noexec flags of the proc mount.
            mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _PROC_FLAGS, None,
                  "mask_proc")


def _optional(fn, *args):
    """Call a mount step; a path this kernel does not have (ENOENT) is skipped."""
    try:
        fn(*args)
    except SetupError as e:
        if e.errno == errno.ENOENT:
            return False
        raise
    return True


def loopback_up():
    """Bring `lo` up in the new network namespace with one SIOCSIFFLAGS.

    A fresh lo has no changeable flag set, so IFF_UP alone is its wanted state; skipping
    SIOCGIFFLAGS saves ~90 us per run.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            fcntl.ioctl(s.fileno(), _SIOCSIFFLAGS, _LO_UP)
        except OSError as e:
            raise SetupError("loopback_up", e.errno, "lo") from None


def limit_socket_buffers(run):
    """Cap the buffers TCP autotuning gives one socket (net.ipv4.tcp_rmem/tcp_wmem, per network
    namespace; their first two fields are Linux's defaults). Set through the zygote's /proc
    before this run's own, whose /proc/sys is read-only. SO_SNDBUF/SO_RCVBUF stay capped by
    net.core.wmem_max/rmem_max, which are host-wide: a run cannot change them. What all of a
    run's sockets hold together is bounded by its memory cgroup (docs/SECURITY.md)."""
    cap = int(run.get("socket_buffer_max") or 0)
    if cap <= 0:
        return
    for name, default in ((b"tcp_rmem", 131072), (b"tcp_wmem", 16384)):
        path = b"/proc/sys/net/ipv4/" + name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, b"4096 %d %d" % (default, max(cap, default)))
            finally:
                os.close(fd)
        except OSError as e:
            raise SetupError("net_limits", e.errno, path.decode()) from None


def oom_first(score):
    """Raise this process's OOM score (never needs privileges; lowering it would): when the
    host runs out of memory, the kernel kills runs before zygotes and both before the server.
    A hint, not an isolation layer (the memory cgroup is): best effort, False if refused."""
    try:
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        os.write(fd, b"%d" % score)  # plain os calls: open() costs ~0.4 ms of faults after a fork
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def prepare(run, cgroup_fds):
    """Everything G does before `ready`, in the documented order."""
    oom_first(1000)
    join_cgroups(cgroup_fds)
    # A cgroup namespace rooted at the run's own group: /proc/self/cgroup shows "/", not the
    # server's prefix and run counter.
    unshare(CLONE_NEWCGROUP)
    sethostname(b"sandbox")
    limit_socket_buffers(run)
    mount_filesystems(run)
    loopback_up()
