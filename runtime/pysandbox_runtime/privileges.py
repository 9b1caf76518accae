"""Run (G) after `go`: drop every capability, become uid/gid 1000, no_new_privs, rlimits."""
import os
import resource

from .syscalls import (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, PR_CAPBSET_DROP,
                       PR_SET_NO_NEW_PRIVS, SetupError, prctl)


def _read_cap_last_cap():
    try:
        with open("/proc/sys/kernel/cap_last_cap", "rb") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 40  # CAP_CHECKPOINT_RESTORE, the last one of Linux 5.9+


CAP_LAST_CAP = _read_cap_last_cap()  # read once in the zygote, /proc is remounted per run


def drop(uid, gid):
    """Bounding set, ambient set, groups, gid, uid (which clears permitted/effective caps)."""
    for cap in range(CAP_LAST_CAP + 1):
        prctl(PR_CAPBSET_DROP, cap, step="drop_caps")
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, step="drop_caps")
    try:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    except OSError as e:
        raise SetupError("set_ids", e.errno, "%d:%d" % (uid, gid)) from None
    prctl(PR_SET_NO_NEW_PRIVS, 1, step="no_new_privs")


def _limit(which, value, name):
    hard = resource.getrlimit(which)[1]
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)  # without capabilities a hard limit can only go down
    try:
        resource.setrlimit(which, (value, value))
    except (OSError, ValueError) as e:
        raise SetupError("rlimit", getattr(e, "errno", None) or 22, name) from None


def set_rlimits(run):
    """NOFILE, FSIZE, CORE=0 and AS when as_bytes > 0."""
    _limit(resource.RLIMIT_NOFILE, int(run["nofile"]), "nofile")
    _limit(resource.RLIMIT_FSIZE, int(run["fsize"]), "fsize")
    _limit(resource.RLIMIT_CORE, 0, "core")
    as_bytes = int(run.get("as_bytes") or 0)
    if as_bytes > 0:
        _limit(resource.RLIMIT_AS, as_bytes, "as")
