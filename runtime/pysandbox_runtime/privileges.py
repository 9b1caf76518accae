"""Run (G) after `ready`: its rlimits, then a user namespace of its own in which it is uid/gid
1000 (host uid: the run's own, SANDBOX_UID_BASE + 1 + k), no capabilities, no_new_privs."""
import os
import resource

from .syscalls import (CLONE_NEWUSER, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, PR_CAPBSET_DROP,
                       PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, SetupError, capset_none, prctl,
                       unshare)

# The program's uid and gid in its own user namespace (the server sends it in `run` too:
# sandbox::kPythonSandboxUid).
SANDBOX_UID = 1000


def _read_cap_last_cap():
    try:
        with open("/proc/sys/kernel/cap_last_cap", "rb") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 40  # CAP_CHECKPOINT_RESTORE, the last one of Linux 5.9+


CAP_LAST_CAP = _read_cap_last_cap()  # read once in the zygote, /proc is remounted per run
_WRITE = os.O_WRONLY | os.O_CLOEXEC


def _write_proc(step, data):
    """Write /proc/self/<step> (setgroups, uid_map, gid_map: the step is the file's name)."""
    try:
        fd = os.open("/proc/self/" + step, _WRITE)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError as e:
        raise SetupError(step, e.errno, data.decode()) from None


def drop(run):
    """Become the run's host uid, enter a user namespace of its own mapping uid/gid 1000 to
    it, and give up every capability: the bounding and ambient sets, then the rest.

    The run's uid in the zygote's namespace (outer_uid) is the run's own on the host: the
    kernel's per-user quotas (fds in flight, pipe buffers, epoll watches, queued signals,
    inotify, ...) are then the run's alone. Its own namespace keeps the identity programs see
    at uid 1000, whatever uid the run was given."""
    uid, gid = int(run.get("uid", SANDBOX_UID)), int(run.get("gid", SANDBOX_UID))
    outer_uid, outer_gid = int(run.get("outer_uid", uid)), int(run.get("outer_gid", gid))
    try:
        os.setgroups([])
        os.setresgid(outer_gid, outer_gid, outer_gid)
        os.setresuid(outer_uid, outer_uid, outer_uid)  # no capability in the zygote's namespace
    except OSError as e:
        raise SetupError("set_ids", e.errno, "%d:%d" % (outer_uid, outer_gid)) from None
    unshare(CLONE_NEWUSER)  # the rlimits set before are now its ceilings too (the kernel's)
    # The id change made us non-dumpable, and /proc/self then belongs to the zygote's root.
    prctl(PR_SET_DUMPABLE, 1)
    _write_proc("setgroups", b"deny")  # an unprivileged gid_map needs it; runs have no groups
    _write_proc("uid_map", b"%d %d 1" % (uid, outer_uid))
    _write_proc("gid_map", b"%d %d 1" % (gid, outer_gid))
    prctl(PR_SET_DUMPABLE, 0)  # as after any uid change: no core dumps, /proc/self not ours
    for cap in range(CAP_LAST_CAP + 1):
        prctl(PR_CAPBSET_DROP, cap, step="drop_caps")
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, step="drop_caps")
    capset_none()  # uid 1000 was never root here: the id change did not clear them
    prctl(PR_SET_NO_NEW_PRIVS, 1, step="no_new_privs")


def _limit(which, value, name):
    hard = resource.getrlimit(which)[1]
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)  # without capabilities a hard limit can only go down
    try:
        resource.setrlimit(which, (value, value))
    except (OSError, ValueError) as e:
        raise SetupError("rlimit", getattr(e, "errno", None) or 22, name) from None


# Per-user quotas, each the run's own (its uid's) in the kernel: (message field, rlimit).
_PER_USER = (("nproc", resource.RLIMIT_NPROC), ("sigpending", resource.RLIMIT_SIGPENDING),
             ("msgqueue", resource.RLIMIT_MSGQUEUE), ("memlock", resource.RLIMIT_MEMLOCK))


def set_rlimits(run):
    """NOFILE, FSIZE, CORE=0, AS when as_bytes > 0, and the per-user ones the message gives."""
    _limit(resource.RLIMIT_NOFILE, int(run["nofile"]), "nofile")
    _limit(resource.RLIMIT_FSIZE, int(run["fsize"]), "fsize")
    _limit(resource.RLIMIT_CORE, 0, "core")
    as_bytes = int(run.get("as_bytes") or 0)
    if as_bytes > 0:
        _limit(resource.RLIMIT_AS, as_bytes, "as")
    for name, which in _PER_USER:
        if name in run:
            _limit(which, int(run[name]), name)
