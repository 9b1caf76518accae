// The run filter loaded in a forked child: denied calls fail with EPERM/ENOSYS on harmless bad
// arguments (bubblewrap's try-syscall.c idea), allowed ones work, other ABIs kill the process.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "sandbox/seccomp_policy.h"

namespace sbx::sandbox {
namespace {

struct Probe {
    const char* name;
    long nr;
    std::array<long, 6> args;
    int expected_errno;  // 0: must succeed
};

const long kBad = 1;  // an invalid user pointer: without the filter, EFAULT / EINVAL

// Each probe would fail differently (EFAULT, EINVAL, EBADF, ESRCH, or succeed) without the filter.
const Probe kProbes[] = {
    {"mount", SYS_mount, {kBad, kBad, kBad, 0, 0, 0}, EPERM},
    {"umount2", SYS_umount2, {kBad, 0, 0, 0, 0, 0}, EPERM},
    {"pivot_root", SYS_pivot_root, {kBad, kBad, 0, 0, 0, 0}, EPERM},
    {"chroot", SYS_chroot, {kBad, 0, 0, 0, 0, 0}, EPERM},
    {"unshare", SYS_unshare, {0, 0, 0, 0, 0, 0}, EPERM},
    {"setns", SYS_setns, {-1, 0, 0, 0, 0, 0}, EPERM},
    {"clone(NEWUSER|FS)", SYS_clone, {CLONE_NEWUSER | CLONE_FS, 0, 0, 0, 0, 0}, EPERM},
    {"clone(NEWNET|NEWPID)", SYS_clone, {CLONE_NEWNET | CLONE_NEWPID | CLONE_FS | CLONE_NEWNS,
                                         0, 0, 0, 0, 0}, EPERM},
    {"clone3", SYS_clone3, {kBad, 0, 0, 0, 0, 0}, ENOSYS},
    {"ptrace", SYS_ptrace, {12 /* PTRACE_GETREGS */, 0, 0, 0, 0, 0}, EPERM},
    {"process_vm_readv", SYS_process_vm_readv, {0, kBad, 1, kBad, 1, 0}, EPERM},
    {"process_vm_writev", SYS_process_vm_writev, {0, kBad, 1, kBad, 1, 0}, EPERM},
    {"kexec_load", SYS_kexec_load, {0, 0, kBad, -1, 0, 0}, EPERM},
    {"init_module", SYS_init_module, {kBad, 0, kBad, 0, 0, 0}, EPERM},
    {"finit_module", SYS_finit_module, {-1, kBad, 0, 0, 0, 0}, EPERM},
    {"delete_module", SYS_delete_module, {kBad, 0, 0, 0, 0, 0}, EPERM},
    {"reboot", SYS_reboot, {0, 0, 0, 0, 0, 0}, EPERM},
    {"swapon", SYS_swapon, {kBad, 0, 0, 0, 0, 0}, EPERM},
    {"bpf", SYS_bpf, {-1, kBad, 0, 0, 0, 0}, EPERM},
    {"perf_event_open", SYS_perf_event_open, {kBad, 0, -1, -1, 0, 0}, EPERM},
    {"userfaultfd", SYS_userfaultfd, {-1, 0, 0, 0, 0, 0}, EPERM},
    {"keyctl", SYS_keyctl, {-1, 0, 0, 0, 0, 0}, EPERM},
    {"add_key", SYS_add_key, {kBad, kBad, 0, 0, 0, 0}, EPERM},
    {"request_key", SYS_request_key, {kBad, kBad, 0, 0, 0, 0}, EPERM},
    {"io_uring_setup", SYS_io_uring_setup, {0, kBad, 0, 0, 0, 0}, EPERM},
    {"io_uring_enter", SYS_io_uring_enter, {-1, 0, 0, 0, 0, 0}, EPERM},
    {"syslog", SYS_syslog, {-1, 0, 0, 0, 0, 0}, EPERM},
    {"settimeofday", SYS_settimeofday, {kBad, 0, 0, 0, 0, 0}, EPERM},
    {"clock_settime", SYS_clock_settime, {-1, kBad, 0, 0, 0, 0}, EPERM},
    {"adjtimex", SYS_adjtimex, {kBad, 0, 0, 0, 0, 0}, EPERM},
    {"acct", SYS_acct, {kBad, 0, 0, 0, 0, 0}, EPERM},
    {"open_by_handle_at", SYS_open_by_handle_at, {-1, kBad, 0, 0, 0, 0}, EPERM},
    {"name_to_handle_at", SYS_name_to_handle_at, {-1, kBad, kBad, kBad, 0, 0}, EPERM},
    {"fsopen", SYS_fsopen, {kBad, 0, 0, 0, 0, 0}, EPERM},
    {"open_tree", SYS_open_tree, {-1, kBad, 0, 0, 0, 0}, EPERM},
    {"pidfd_getfd", SYS_pidfd_getfd, {-1, 0, 0, 0, 0, 0}, EPERM},
    {"kcmp", SYS_kcmp, {0, 0, 0, 0, 0, 0}, EPERM},
    {"iopl", SYS_iopl, {0, 0, 0, 0, 0, 0}, EPERM},
    {"socket(AF_VSOCK)", SYS_socket, {AF_VSOCK, SOCK_STREAM, 0, 0, 0, 0}, EPERM},
    // The kernel reads the family as an int: upper bits set must not make it another value.
    {"socket(1<<32 | AF_VSOCK)", SYS_socket, {(1L << 32) | AF_VSOCK, SOCK_STREAM, 0, 0, 0, 0}, EPERM},
    {"socket(~0<<32 | AF_VSOCK)", SYS_socket,
     {static_cast<long>(0xffffffff00000000UL | AF_VSOCK), SOCK_STREAM, 0, 0, 0, 0}, EPERM},
    {"open_tree_attr (newer than libseccomp)", 467, {-1, kBad, 0, kBad, 0, 0}, EPERM},
    {"personality(ADDR_NO_RANDOMIZE)", SYS_personality, {ADDR_NO_RANDOMIZE, 0, 0, 0, 0, 0}, EPERM},
    {"personality(1<<32 | NO_RANDOMIZE)", SYS_personality,
     {(1L << 32) | ADDR_NO_RANDOMIZE, 0, 0, 0, 0, 0}, EPERM},
    {"personality(1<<31 | NO_RANDOMIZE)", SYS_personality, {0x80040000L, 0, 0, 0, 0, 0}, EPERM},
    {"personality(READ_IMPLIES_EXEC)", SYS_personality, {READ_IMPLIES_EXEC, 0, 0, 0, 0, 0}, EPERM},
    {"sethostname", SYS_sethostname, {kBad, 0, 0, 0, 0, 0}, EPERM},
    // Allowed: these must keep working for Python.
    {"personality(PER_LINUX32|UNAME26)", SYS_personality, {0x20008, 0, 0, 0, 0, 0}, 0},
    {"personality(query)", SYS_personality, {0xffffffffL, 0, 0, 0, 0, 0}, 0},
    {"personality(PER_LINUX)", SYS_personality, {PER_LINUX, 0, 0, 0, 0, 0}, 0},
    {"getpid", SYS_getpid, {0, 0, 0, 0, 0, 0}, 0},
    {"socket(AF_UNIX)", SYS_socket, {AF_UNIX, SOCK_STREAM, 0, 0, 0, 0}, 0},
    {"socket(1<<32 | AF_UNIX)", SYS_socket, {(1L << 32) | AF_UNIX, SOCK_STREAM, 0, 0, 0, 0}, 0},
};

// child: loads `prog`, then reports one errno (or 0) per probe on `out`.
[[noreturn]] void child_probe(const std::vector<sock_filter>& prog, int out) {
    sock_fprog fprog{static_cast<unsigned short>(prog.size()),
                     const_cast<sock_filter*>(prog.data())};  // NOLINT: kernel ABI
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(2);
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) ::_exit(3);
    for (const auto& p : kProbes) {
        const long r = ::syscall(p.nr, p.args[0], p.args[1], p.args[2], p.args[3], p.args[4],
                                 p.args[5]);
        const int e = r < 0 ? errno : 0;
        if (::write(out, &e, sizeof e) != sizeof e) ::_exit(4);
    }
    // fork() must still work: glibc's clone without namespace flags.
    const pid_t kid = ::fork();
    if (kid == 0) ::_exit(0);
    int st = -1;
    ::waitpid(kid, &st, 0);
    ::_exit(kid > 0 && st == 0 ? 0 : 5);
}

// Runs `body` under the filter in a forked child; returns its wait status.
template <class F>
int run_filtered(const std::vector<sock_filter>& prog, F body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        sock_fprog fprog{static_cast<unsigned short>(prog.size()),
                         const_cast<sock_filter*>(prog.data())};  // NOLINT: kernel ABI
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(2);
        if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) ::_exit(3);
        body();
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

TEST(SandboxSeccomp, DeniedCallsFailWithTheirErrnoAllowedOnesWork) {
    const auto t0 = std::chrono::steady_clock::now();
    auto prog = build_run_filter();
    const auto dt = std::chrono::steady_clock::now() - t0;
    ASSERT_TRUE(prog) << prog.error().render();
    std::printf("filter: %zu BPF instructions, built in %.3f ms\n", prog->size(),
                std::chrono::duration<double, std::milli>(dt).count());
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    const pid_t pid = ::fork();
    if (pid == 0) child_probe(*prog, p[1]);
    ::close(p[1]);
    for (const auto& probe : kProbes) {
        int e = -1;
        ASSERT_EQ(::read(p[0], &e, sizeof e), static_cast<ssize_t>(sizeof e)) << probe.name;
        EXPECT_EQ(e, probe.expected_errno) << probe.name << ": " << strerrorname_np(e);
    }
    ::close(p[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(SandboxSeccomp, I386IntEightyKillsTheProcess) {
    auto prog = build_run_filter();
    ASSERT_TRUE(prog);
    const int status = run_filtered(*prog, [] {
        long ret = 20;  // i386 __NR_getpid
        asm volatile("int $0x80" : "+a"(ret) : : "memory");
    });
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) << status;
}

TEST(SandboxSeccomp, X32SyscallKillsTheProcess) {
    auto prog = build_run_filter();
    ASSERT_TRUE(prog);
    const int status = run_filtered(*prog, [] { ::syscall(0x40000000L | SYS_getpid); });
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) << status;
}

TEST(SandboxSeccomp, FilterMemfdIsSealedAndHoldsTheProgram) {
    auto prog = build_run_filter();
    ASSERT_TRUE(prog);
    auto fd = filter_memfd(*prog);
    ASSERT_TRUE(fd) << fd.error().render();
    std::vector<sock_filter> back(prog->size());
    const auto bytes = static_cast<ssize_t>(back.size() * sizeof(sock_filter));
    ASSERT_EQ(::read(fd->get(), back.data(), back.size() * sizeof(sock_filter)), bytes);
    EXPECT_EQ(std::memcmp(back.data(), prog->data(), static_cast<std::size_t>(bytes)), 0);
    EXPECT_EQ(::write(fd->get(), "x", 1), -1);
    EXPECT_EQ(errno, EPERM);
    EXPECT_EQ(::fcntl(fd->get(), F_GET_SEALS) & F_SEAL_WRITE, F_SEAL_WRITE);
}

}  // namespace
}  // namespace sbx::sandbox
