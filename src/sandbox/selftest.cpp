// Host self-test: probe user namespaces, clone3, pidfd, seccomp and cgroups; say how to fix.
#include "sandbox/selftest.h"

#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/seccomp_policy.h"
#include "sys/eintr.h"
#include "sys/pidfd.h"

namespace sbx::sandbox {
namespace {

std::string errno_name(int err) {
    const char* n = strerrorname_np(err);
    return n != nullptr ? n : std::to_string(err);
}

// Runs `probe` in a forked child; returns 0 when it exited 0, else its errno (exit code) or -1.
template <class F>
int in_child(F probe) {
    const pid_t pid = ::fork();
    if (pid < 0) return errno;
    if (pid == 0) ::_exit(probe());
    int status = 0;
    if (sys::retry_eintr([&] { return ::waitpid(pid, &status, 0); }) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

LayerCheck check_clone3() {
    // NULL args: EFAULT/EINVAL means the call exists; ENOSYS means the clone fallback is used.
    const long r = ::syscall(SYS_clone3, nullptr, 0);
    const int err = r < 0 ? errno : 0;
    if (err != ENOSYS) return {"clone3", true, "present", ""};
    return {"clone3", false, "ENOSYS: clone(2) fallback in use", "Linux >= 5.3 (optional)"};
}

LayerCheck check_pidfd() {
    auto fd = sys::open_pidfd(::getpid());
    if (fd) return {"pidfd", true, "pidfd_open works", ""};
    return {"pidfd", false, fd.error().render(), "Linux >= 5.3 is required"};
}

LayerCheck check_seccomp() {
    auto prog = build_run_filter();
    if (!prog) return {"seccomp", false, prog.error().render(), "install libseccomp >= 2.5"};
    const int err = in_child([&] {
        sock_fprog fprog{static_cast<unsigned short>(prog->size()), prog->data()};
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
        return ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) == 0 ? 0 : errno;
    });
    if (err == 0) return {"seccomp", true, std::to_string(prog->size()) + " BPF instructions", ""};
    return {"seccomp", false, "PR_SET_SECCOMP: " + errno_name(err),
            "kernel with CONFIG_SECCOMP_FILTER=y"};
}

LayerCheck check_cgroups(const CgroupManager& m) {
    if (m.version() != CgroupVersion::none) return {"cgroups", true, m.describe(), ""};
    return {"cgroups", false, m.describe(),
            "run as root, or delegate a cgroup v2 subtree with memory, pids and cpu "
            "(systemd: Delegate=yes); without it only rlimits limit a run"};
}

}  // namespace

LayerCheck check_user_namespaces() {
    // The zygote needs every namespace at once, as root of a new user namespace.
    const int err = in_child([] {
        constexpr int kAll = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
                             CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
        return ::unshare(kAll) == 0 ? 0 : errno;
    });
    if (err == 0) return {"user_namespaces", true, "user+mount+pid+net+ipc+uts+cgroup", ""};
    return {"user_namespaces", false, "unshare: " + errno_name(err),
            "sysctl -w user.max_user_namespaces=15000 (and kernel.unprivileged_userns_clone=1 "
            "or kernel.apparmor_restrict_unprivileged_userns=0 where they exist); in a "
            "container: run with --privileged or a seccomp profile that allows unshare"};
}

std::vector<LayerCheck> run_selftest(const CgroupManager* cgroups) {
    std::vector<LayerCheck> out{check_user_namespaces(), check_clone3(), check_pidfd(), check_seccomp()};
    if (cgroups != nullptr) out.push_back(check_cgroups(*cgroups));
    return out;
}

}  // namespace sbx::sandbox
