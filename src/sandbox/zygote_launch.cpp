// Spawner side of a zygote start: clone3 with every namespace, uid/gid maps, release, verdict.
#include "sandbox/zygote_launch.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstdint>
#include <string>
#include <utility>

#include "sandbox/child_plan.h"
#include "sandbox/sandbox_ids.h"
#include "sys/child_process.h"
#include "sys/eintr.h"
#include "sys/fd_util.h"

namespace sbx::sandbox {
namespace {

using sys::Result;
using sys::Step;
using sys::UniqueFd;

// user: unprivileged on the host; mount: private root; pid: no host pids; net: loopback only;
// ipc, uts: private SysV objects and hostname; cgroup: the zygote sees its cgroup as "/".
constexpr std::uint64_t kNsFlags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
                                   CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;

// Moves `fd` to a number >= kChildFdFloor (CLOEXEC) so the child's dup2 onto 3/4 is safe.
Result<UniqueFd> raise_fd(const UniqueFd& fd) { return sys::dup_cloexec(fd.get(), kChildFdFloor); }

Result<UniqueFd> empty_sealed_memfd() {
    const int fd = ::memfd_create("pysandbox-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return sys::errno_error(Step::memfd, "empty filter");
    UniqueFd owned{fd};
    if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) {
        return sys::errno_error(Step::memfd, "seal");
    }
    return owned;
}

// While alive, this (single-threaded) process acts as `owner` (effective uid and gid; real and
// saved stay root, so the destructor can switch back). A user namespace created meanwhile is
// owned by `owner` instead of root: the kernel charges the per-user quotas (ucounts) of
// everything inside it, one level up, to its owner. Owned by root, a run's inotify instances
// and queued signals counted against host root's own limits (tests/security/test_user_quotas.py).
class ActAs {
public:
    static Result<ActAs> switch_to(std::uint32_t owner) {
        if (::setresgid(static_cast<gid_t>(-1), owner, static_cast<gid_t>(-1)) != 0) {
            return sys::errno_error(Step::setgid, "zygote namespace owner");
        }
        if (::setresuid(static_cast<uid_t>(-1), owner, static_cast<uid_t>(-1)) != 0) {
            const auto e = sys::errno_error(Step::setuid, "zygote namespace owner");
            restore_gid();
            return e;
        }
        return ActAs{};
    }
    ActAs(ActAs&& o) noexcept : active_(std::exchange(o.active_, false)) {}
    ActAs& operator=(ActAs&&) = delete;
    ActAs(const ActAs&) = delete;
    ActAs& operator=(const ActAs&) = delete;
    // Back to root: permitted by the real/saved ids; the effective capabilities come back too.
    ~ActAs() {
        if (!active_) return;
        if (::setresuid(static_cast<uid_t>(-1), 0, static_cast<uid_t>(-1)) != 0) std::abort();
        restore_gid();
    }

private:
    ActAs() = default;
    // Cannot fail (0 is the real and saved gid); a spawner that kept another id must not go on.
    static void restore_gid() {
        if (::setresgid(static_cast<gid_t>(-1), 0, static_cast<gid_t>(-1)) != 0) std::abort();
    }
    bool active_ = true;
};

Result<sys::ChildProcess> clone_child(const ChildPlan& plan, std::uint32_t owner) {
    SBX_TRY(ActAs acting, ActAs::switch_to(owner));
    int pidfd = -1;
    clone_args args{};
    args.flags = CLONE_PIDFD | kNsFlags;
    args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);  // NOLINT: kernel ABI takes a u64
    args.exit_signal = SIGCHLD;
    // No stack given: clone3 then behaves like fork (copy-on-write, same stack address).
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0 && errno == ENOSYS) {
        // Before Linux 5.3: clone(2) puts the pidfd where parent_tid points (x86_64 order).
        pid = ::syscall(SYS_clone, CLONE_PIDFD | kNsFlags | SIGCHLD, nullptr, &pidfd, nullptr,
                        nullptr);
    }
    if (pid < 0) return sys::errno_error(Step::clone, "zygote");
    if (pid == 0) child_run_zygote(plan);
    return sys::ChildProcess{static_cast<pid_t>(pid), UniqueFd{pidfd}};
}

Result<void> write_proc_file(pid_t pid, const char* name, const std::string& text, Step step) {
    // The child is ours and blocked on the release pipe: its pid cannot be reused meanwhile.
    const std::string path = "/proc/" + std::to_string(pid) + "/" + name;
    const UniqueFd fd{::open(path.c_str(), O_WRONLY | O_CLOEXEC)};
    if (!fd) return sys::errno_error(step, path);
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        return sys::errno_error(step, path + ": " + text);
    }
    return {};
}

Result<void> parent_write_id_maps(pid_t pid, std::uint32_t base, std::uint32_t count) {
    // ns 0 (the zygote, "root" of its namespace only) and ns 1000 ... 999 + count (one per run;
    // each run maps its own uid 1000 onto one of them in a user namespace of its own).
    const std::string map = "0 " + std::to_string(base) + " 1\n" +
                            std::to_string(kPythonSandboxUid) + " " + std::to_string(base + 1) +
                            " " + std::to_string(count) + "\n";
    // setgroups stays "allow": we write gid_map as host root, and runs call setgroups([]).
    SBX_TRY_VOID(write_proc_file(pid, "uid_map", map, Step::uid_map));
    SBX_TRY_VOID(write_proc_file(pid, "gid_map", map, Step::gid_map));
    return {};
}

// Reads the child's verdict: EOF = execve succeeded, a ChildFailure = the failing step.
Result<void> parent_await_exec(const ChildPlan& plan, int failure_fd) {
    ChildFailure f{};
    const auto n = sys::retry_eintr([&] { return ::read(failure_fd, &f, sizeof f); });
    if (n == 0) return {};
    if (n < 0) return sys::errno_error(Step::read, "zygote failure pipe");
    if (n != static_cast<ssize_t>(sizeof f)) {
        return sys::SysError{Step::zygote_start, EPROTO, "short failure record"};
    }
    return sys::SysError{f.step, f.err, describe_failure(plan, f)};
}

}  // namespace

Result<ZygoteHandle> launch_zygote(ZygoteSpec spec, const std::filesystem::path& stage) {
    SBX_TRY(ChildPlan plan, build_zygote_plan(spec, stage));
    UniqueFd memfd = std::move(spec.seccomp_memfd);
    if (!memfd) {
        SBX_TRY(memfd, empty_sealed_memfd());
    }
    SBX_TRY(sys::FdPair control, sys::seqpacket_pair("zygote control"));
    UniqueFd server_end = std::move(control.first);
    SBX_TRY(UniqueFd child_ctl, raise_fd(control.second));
    SBX_TRY(UniqueFd child_memfd, raise_fd(memfd));
    control.second.reset();
    memfd.reset();
    SBX_TRY(sys::Pipe release, sys::make_pipe("zygote"));
    SBX_TRY(sys::Pipe failure, sys::make_pipe("zygote"));
    SBX_TRY(release.read, raise_fd(release.read));
    SBX_TRY(failure.write, raise_fd(failure.write));
    plan.fds = ChildFds{release.read.get(), failure.write.get(), child_ctl.get(),
                        child_memfd.get()};

    SBX_TRY(sys::ChildProcess child, clone_child(plan, spec.uid_base));
    // Our copies of the child's ends: closing them lets EOF mean "the child is done with them".
    release.read.reset();
    failure.write.reset();
    child_ctl.reset();
    child_memfd.reset();
    SBX_TRY_VOID(parent_write_id_maps(child.pid(), spec.uid_base, spec.uid_count));
    if (::write(release.write.get(), "g", 1) != 1) return sys::errno_error(Step::write, "release");
    release.write.reset();
    SBX_TRY_VOID(parent_await_exec(plan, failure.read.get()));  // failure: child killed+reaped
    const pid_t pid = child.pid();
    return ZygoteHandle{child.release(), std::move(server_end), pid};
}

}  // namespace sbx::sandbox
