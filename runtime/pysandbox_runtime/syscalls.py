"""ctypes bindings for the libc calls the standard library lacks, and SetupError."""
import ctypes
import ctypes.util
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUSER = 0x10000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18

PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SECCOMP_MODE_FILTER = 2

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_ul = ctypes.c_ulong
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, _ul, ctypes.c_char_p]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.prctl.argtypes = [ctypes.c_int, _ul, _ul, _ul, _ul]
_SYS_CAPSET = 126  # x86_64; the zygote and its runs are native x86_64 processes
_CAP_HEADER = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
_CAP_NONE = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: two words each, all 0


class SetupError(Exception):
    """A failed set-up step: reported as {"type":"error","step","errno","detail"}."""

    def __init__(self, step, err, detail=""):
        super().__init__(step, err, detail)
        self.step, self.errno, self.detail = step, err, detail


def _check(ret, step, detail):
    if ret != 0:
        raise SetupError(step, ctypes.get_errno(), detail)


def unshare(flags):
    """unshare(2) or SetupError("unshare")."""
    _check(_libc.unshare(flags), "unshare", hex(flags))


def setns(fd, nstype):
    """setns(2) or OSError: only the zygote calls it, and a failure ends the zygote, not a run."""
    if _libc.setns(fd, nstype) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), "setns %s" % hex(nstype))


def mount(source, target, fstype, flags, data, step):
    """mount(2) with bytes/None arguments, or SetupError(step, errno, target)."""
    _check(_libc.mount(source, target, fstype, flags, data), step, target.decode())


def sethostname(name):
    """sethostname(2) or SetupError("sethostname")."""
    _check(_libc.sethostname(name, len(name)), "sethostname", name.decode())


def prctl(option, a2=0, a3=0, a4=0, a5=0, step="prctl"):
    """prctl(2) with every argument passed as unsigned long, or SetupError(step)."""
    _check(_libc.prctl(option, a2, a3, a4, a5), step, str(option))


def capset_none(step="drop_caps"):
    """capset(2): empty effective, permitted and inheritable sets, or SetupError(step)."""
    _check(_libc.syscall(_SYS_CAPSET, _CAP_HEADER, _CAP_NONE), step, "capset")
