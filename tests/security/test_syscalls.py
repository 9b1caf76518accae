"""Dangerous system calls through ctypes: each must fail with the exact errno of the filter.

Each probe passes bad arguments (pointer 1, fd -1, an invalid flag) wherever it can, so that
if the seccomp filter let the call through, the kernel would fail it harmlessly with a
*different* errno (EFAULT, EBADF, EINVAL, ...), as bubblewrap's tests/try-syscall.c does.
Where even that is not possible the probe runs in a forked child that exits right after.
`UNFILTERED` says what the kernel answers when the call reaches it (for failure messages).

All probes run in one sandbox run (module fixture); each is asserted by its own test.
"""
import errno
import signal

import pytest

PROBE_LIB = r"""
import ctypes, errno, json, mmap, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
BAD = 1  # a pointer that faults: EFAULT if the kernel ever reads it
X32 = 0x40000000

def sc(nr, *args):
    ctypes.set_errno(0)
    ret = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    return {"ret": ret, "errno": ctypes.get_errno() if ret == -1 else 0}

def in_child(fn):
    # Run fn() in a forked child: its result, or the signal that killed the child.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.write(w, json.dumps(fn()).encode())
        except BaseException as e:
            os.write(w, json.dumps({"exception": repr(e)}).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return json.loads(data) if data else {"exit": os.WEXITSTATUS(status)}

def machine_code(code):
    # Call x86 machine code from an anonymous RWX mapping (the work dir and /tmp may be noexec).
    m = mmap.mmap(-1, mmap.PAGESIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS,
                  prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    m.write(code)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
    ret = ctypes.CFUNCTYPE(ctypes.c_int)(addr)()
    return {"ret": ret, "pid": os.getpid()}
"""

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP = 0x10000000, 0x20000000, 0x40000000, 0x02000000
CLONE_THREAD = 0x00010000  # without CLONE_SIGHAND: EINVAL if clone() ever runs

# name: (python expression evaluated in the sandbox, expected errno, errno if unfiltered)
PROBES = {
    "ptrace_traceme": ("in_child(lambda: sc(101, 0, 0, 0, 0))", errno.EPERM, "0 (success)"),
    "ptrace_attach_pid1": ("in_child(lambda: sc(101, 0x4206, 1, 0, 0))", errno.EPERM, "EPERM (not dumpable)"),
    "ptrace_attach_bad_pid": ("sc(101, 16, 0x3ffffff0, 0, 0)", errno.EPERM, "ESRCH"),
    "process_vm_readv": ("sc(310, 1, 0, 0, 0, 0, 1)", errno.EPERM, "EINVAL"),
    "process_vm_writev": ("sc(311, 1, 0, 0, 0, 0, 1)", errno.EPERM, "EINVAL"),
    "mount": ("sc(165, BAD, BAD, BAD, 0, BAD)", errno.EPERM, "EFAULT"),
    "umount2": ("sc(166, BAD, 0)", errno.EPERM, "EFAULT"),
    "pivot_root": ("sc(155, BAD, BAD)", errno.EPERM, "EPERM (no CAP_SYS_ADMIN)"),
    "chroot": ("sc(161, BAD)", errno.EPERM, "EFAULT"),
    "unshare_newuser": ("in_child(lambda: sc(272, %d))" % CLONE_NEWUSER, errno.EPERM, "0 (success)"),
    "unshare_newns": ("sc(272, %d | 1)" % CLONE_NEWNS, errno.EPERM, "EINVAL"),
    "setns": ("sc(308, -1, 0)", errno.EPERM, "EBADF"),
    "clone_newuser": ("sc(56, %d, 0, 0, 0, 0)" % (CLONE_NEWUSER | CLONE_THREAD), errno.EPERM, "EINVAL"),
    "clone_newns": ("sc(56, %d, 0, 0, 0, 0)" % (CLONE_NEWNS | CLONE_THREAD), errno.EPERM, "EINVAL"),
    "clone_newpid": ("sc(56, %d, 0, 0, 0, 0)" % (CLONE_NEWPID | CLONE_THREAD), errno.EPERM, "EINVAL"),
    "clone_newnet": ("sc(56, %d, 0, 0, 0, 0)" % (CLONE_NEWNET | CLONE_THREAD), errno.EPERM, "EINVAL"),
    "clone_newcgroup": ("sc(56, %d, 0, 0, 0, 0)" % (CLONE_NEWCGROUP | CLONE_THREAD), errno.EPERM, "EINVAL"),
    "clone3": ("sc(435, BAD, 88)", errno.ENOSYS, "EFAULT"),
    "keyctl": ("sc(250, 0x7fffffff, 0, 0, 0, 0)", errno.EPERM, "EOPNOTSUPP"),
    "add_key": ("sc(248, BAD, BAD, 0, 0, -3)", errno.EPERM, "EFAULT"),
    "request_key": ("sc(249, BAD, BAD, 0, 0)", errno.EPERM, "EFAULT"),
    "bpf": ("sc(321, 0x7fff, 0, 0)", errno.EPERM, "EINVAL"),
    "perf_event_open": ("sc(298, BAD, 0, -1, -1, 0)", errno.EPERM, "EFAULT"),
    "io_uring_setup": ("sc(425, 1, BAD)", errno.EPERM, "EFAULT"),
    "io_uring_enter": ("sc(426, -1, 0, 0, 0, 0, 0)", errno.EPERM, "EBADF"),
    "io_uring_register": ("sc(427, -1, 0, 0, 0)", errno.EPERM, "EINVAL"),
    "userfaultfd": ("sc(323, 3)", errno.EPERM, "EINVAL"),
    "personality_addr_no_randomize": ("in_child(lambda: sc(135, 0x0040000))", errno.EPERM, "0 (success)"),
    "personality_read_implies_exec": ("in_child(lambda: sc(135, 0x0400000))", errno.EPERM, "0 (success)"),
    "socket_af_vsock": ("in_child(lambda: sc(41, 40, 1, 0))", errno.EPERM, "an fd or EAFNOSUPPORT"),
    # The kernel reads the family as an int: upper bits set are still AF_VSOCK.
    "socket_af_vsock_upper_bits": ("in_child(lambda: sc(41, 0x100000028, 1, 0))", errno.EPERM,
                                   "an fd or EAFNOSUPPORT"),
    "open_tree_attr": ("sc(467, -1, BAD, 0, BAD, 0)", errno.EPERM, "EFAULT or ENOSYS (older kernel)"),
    "kexec_load": ("sc(246, 0, 0, 0, 0)", errno.EPERM, "ENOSYS (not built in) or EPERM"),
    "kexec_file_load": ("sc(320, -1, -1, 0, 0, 0)", errno.EPERM, "ENOSYS (not built in) or EPERM"),
    "init_module": ("sc(175, BAD, 0, BAD)", errno.EPERM, "ENOSYS (not built in) or EPERM"),
    "finit_module": ("sc(313, -1, BAD, 0)", errno.EPERM, "ENOSYS (not built in) or EPERM"),
    "delete_module": ("sc(176, BAD, 0)", errno.EPERM, "ENOSYS (not built in) or EPERM"),
    "reboot": ("sc(169, 0, 0, 0, 0)", errno.EPERM, "EPERM (no CAP_SYS_BOOT)"),
    "swapon": ("sc(167, BAD, 0)", errno.EPERM, "EPERM"),
    "open_by_handle_at": ("sc(304, -1, BAD, 0)", errno.EPERM, "EFAULT"),
    "name_to_handle_at": ("sc(303, -1, BAD, BAD, BAD, 0)", errno.EPERM, "EFAULT"),
    "syslog": ("sc(103, 3, 0, 0)", errno.EPERM, "EPERM (dmesg_restrict) or EINVAL"),
    "settimeofday": ("sc(164, BAD, 0)", errno.EPERM, "EFAULT"),
    "clock_settime": ("sc(227, 0, BAD)", errno.EPERM, "EFAULT"),
    "acct": ("sc(163, BAD)", errno.EPERM, "EPERM"),
    "fsopen": ("sc(430, BAD, 0)", errno.EPERM, "EPERM"),
    "open_tree": ("sc(428, -1, BAD, 0)", errno.EPERM, "EFAULT"),
    "move_mount": ("sc(429, -1, BAD, -1, BAD, 0)", errno.EPERM, "EPERM"),
    "pidfd_getfd": ("sc(438, -1, 0, 0)", errno.EPERM, "EBADF"),
    "sethostname": ("sc(170, BAD, 5)", errno.EPERM, "EPERM"),
    "iopl": ("sc(172, 3)", errno.EPERM, "ENOSYS (not built in) or EPERM"),
}

PROBE_CODE = PROBE_LIB + "\nout = {}\n" + "".join(
    "try:\n    out[%r] = %s\nexcept Exception as e:\n    out[%r] = {'exception': repr(e)}\n"
    % (name, expr, name) for name, (expr, _, _) in PROBES.items()) + "print(json.dumps(out))\n"


@pytest.fixture(scope="module")
def probes(server):
    r = server.execute(PROBE_CODE, timeout=10)
    return r.result()


@pytest.mark.parametrize("name", list(PROBES))
def test_denied_syscall(probes, name):
    _, expected, unfiltered = PROBES[name]
    got = probes[name]
    assert got == {"ret": -1, "errno": expected}, (
        "%s: expected %s, got %s (the kernel without the filter answers %s)"
        % (name, errno.errorcode[expected], _render(got), unfiltered))


def _render(got):
    if "errno" in got and got.get("ret") == -1:
        return "errno %s" % errno.errorcode.get(got["errno"], got["errno"])
    return repr(got)


# i386 `int 0x80` from a 64-bit process: the filter must check the architecture (or the
# x86_64 numbers it keys on are bypassed). Stubs preserve rbx (callee-saved in the SysV ABI).
I386_GETPID = bytes.fromhex("b814000000" "cd80" "c3")                       # eax=20 getpid
I386_UNSHARE_NEWUSER = bytes.fromhex("53" "bb00000010" "b836010000" "cd80" "5b" "c3")  # 310
I386_MOUNT_BAD = bytes.fromhex("53" "bb01000000" "b901000000" "ba01000000" "be00000000"
                               "bf01000000" "b815000000" "cd80" "5b" "c3")  # 21, EFAULT if run


def _arch_code(stub_hex_list):
    return PROBE_LIB + r"""
out = {}
for name, hexcode in %r:
    out[name] = in_child(lambda: machine_code(bytes.fromhex(hexcode)))
for name, nr, args in (("x32_getpid", X32 | 39, ()), ("x32_unshare_newuser", X32 | 272, (0x10000000,)),
                       ("x32_mount_bad", X32 | 165, (BAD, BAD, BAD, 0, BAD)),
                       ("x32_ptrace_traceme", X32 | 101, (0, 0, 0, 0))):
    out[name] = in_child(lambda: sc(nr, *args))
print(json.dumps(out))
""" % stub_hex_list


@pytest.fixture(scope="module")
def arch_probes(server):
    stubs = [("i386_getpid", I386_GETPID.hex()), ("i386_unshare_newuser", I386_UNSHARE_NEWUSER.hex()),
             ("i386_mount_bad", I386_MOUNT_BAD.hex())]
    return server.execute(_arch_code(stubs), timeout=10).result()


@pytest.mark.parametrize("name", ["i386_getpid", "i386_unshare_newuser", "i386_mount_bad"])
def test_i386_int80_never_succeeds(arch_probes, name):
    got = arch_probes[name]
    # Killed by the filter's bad-arch action, or refused with -EPERM in eax.
    assert got == {"signal": signal.SIGSYS} or got.get("ret") == -errno.EPERM, (
        "%s via int 0x80: %r (the call reached the kernel: the architecture is not checked)"
        % (name, got))


@pytest.mark.parametrize("name", ["x32_getpid", "x32_unshare_newuser", "x32_mount_bad",
                                  "x32_ptrace_traceme"])
def test_x32_syscalls_never_succeed(arch_probes, name):
    got = arch_probes[name]
    ok = got == {"signal": signal.SIGSYS} or (got.get("ret") == -1 and
                                              got.get("errno") in (errno.ENOSYS, errno.EPERM))
    assert ok, "%s: %r (expected SIGSYS, ENOSYS or EPERM)" % (name, got)


def test_int80_in_the_main_process_is_a_blocked_syscall_verdict(run):
    # Without a fork: the run itself dies, and the response says so exactly.
    code = PROBE_LIB + "\nmachine_code(bytes.fromhex(%r))\nprint('survived')\n" % I386_GETPID.hex()
    r = run(code)
    assert r["stdout"] == "", r.brief()
    assert (r["status"], r["signal"], r["error"]) == (
        "error", signal.SIGSYS, "Code execution failed: blocked system call"), r.brief()


def test_seccomp_cannot_be_replaced_or_disabled(run):
    code = PROBE_LIB + r"""
out = {}
# prctl(PR_SET_SECCOMP, SECCOMP_MODE_DISABLED=0) and seccomp(SECCOMP_SET_MODE_STRICT...) must not
# lift the filter; PR_SET_NO_NEW_PRIVS cannot be cleared.
out["prctl_disable"] = sc(157, 22, 0, 0, 0, 0)
out["nnp_clear"] = sc(157, 38, 0, 0, 0, 0)
out["nnp"] = sc(157, 39, 0, 0, 0, 0)
status = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
out["Seccomp"] = status["Seccomp"].strip()
print(json.dumps(out))
"""
    res = run(code).result()
    assert res["prctl_disable"] == {"ret": -1, "errno": errno.EINVAL}, res
    assert res["nnp_clear"] == {"ret": -1, "errno": errno.EINVAL}, res
    assert res["nnp"] == {"ret": 1, "errno": 0}, res
    assert res["Seccomp"] == "2", res
