"""The runs' seccomp filter: read once from the zygote's fd 4, loaded in each run (G)."""
import ctypes
import os

from .syscalls import PR_SET_SECCOMP, SECCOMP_MODE_FILTER, SetupError, prctl

_BPF_MAXINSNS = 4096


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class Filter:
    """A struct sock_fprog built once; its memory is inherited by every fork."""

    def __init__(self, raw):
        if not raw or len(raw) % 8 or len(raw) // 8 > _BPF_MAXINSNS:
            raise ValueError("seccomp filter: %d bytes is not 1..4096 sock_filter" % len(raw))
        self._buf = ctypes.create_string_buffer(raw, len(raw))
        self._prog = _SockFprog(len(raw) // 8, ctypes.addressof(self._buf))
        self.instructions = len(raw) // 8

    def load(self):
        """prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog); needs no_new_privs first."""
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(self._prog),
              step="seccomp_load")


def read_filter(fd):
    """Read the whole memfd from offset 0 (it is not closed here)."""
    size = os.fstat(fd).st_size
    chunks, offset = [], 0
    while offset < size:
        chunk = os.pread(fd, size - offset, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return Filter(b"".join(chunks))
