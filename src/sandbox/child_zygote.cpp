// Post-clone code of a zygote: build the base sandbox from the pre-built plan, then execve python.
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <grp.h>

#include "sandbox/child_plan.h"

namespace sbx::sandbox {
namespace {

using sys::Step;

constexpr int kSetupFailed = 127;

// child: async-signal-safe
[[noreturn]] void child_fail(const ChildPlan& plan, Step step, int op_index) noexcept {
    const ChildFailure f{step, errno, op_index};
    // A short write cannot be reported anywhere: the parent then sees EOF and a dead child.
    [[maybe_unused]] const auto n = ::write(plan.fds.failure, &f, sizeof f);
    ::_exit(kSetupFailed);
}

// child: async-signal-safe
int child_write_file(const char* path, const std::string& data) noexcept {
    const int fd = ::open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return -1;
    const auto n = ::write(fd, data.data(), data.size());
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return n == static_cast<ssize_t>(data.size()) ? 0 : -1;
}

// child: async-signal-safe
int child_write_sysctl(const char* path, const std::string& data) noexcept {
    const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : -1;  // a limit this kernel does not have
    const auto n = ::write(fd, data.data(), data.size());
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return n == static_cast<ssize_t>(data.size()) ? 0 : -1;
}

// child: async-signal-safe
int child_set_attr(const char* path, std::uint64_t attrs, bool recursive) noexcept {
    // mount_setattr (Linux 5.12) applies to the whole bound tree at once; it only sets flags, so
    // flags locked by the user namespace (nodev, nosuid, ... of the host mount) are kept.
    mount_attr attr{};
    attr.attr_set = attrs;
    return ::mount_setattr(AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr, sizeof attr);
}

// child: async-signal-safe
int child_do_op(const PlanOp& op) noexcept {
    const char* dst = op.dst.c_str();
    switch (op.kind) {
        case OpKind::tmpfs:
            return ::mount("tmpfs", dst, "tmpfs", op.flags, op.arg.c_str());
        case OpKind::proc:
            // A proc of the zygote's own pid namespace: no host pids; nosuid,nodev,noexec.
            return ::mount("proc", dst, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
        case OpKind::make_dir:
            return ::mkdir(dst, 0755);
        case OpKind::make_file: {
            const int fd = ::open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            return fd < 0 ? -1 : ::close(fd);
        }
        case OpKind::write_file:
            return child_write_file(dst, op.arg);
        case OpKind::symlink:
            return ::symlink(op.arg.c_str(), dst);
        case OpKind::bind:
            // MS_REC: a non-recursive bind of a tree with locked submounts fails with EINVAL.
            if (::mount(op.arg.c_str(), dst, nullptr, MS_BIND | MS_REC, nullptr) != 0) return -1;
            return child_set_attr(dst, op.flags, true);
        case OpKind::set_attr:
            return child_set_attr(dst, op.flags, false);
        case OpKind::sysctl:
            return child_write_sysctl(dst, op.arg);
    }
    errno = EINVAL;
    return -1;
}

// Checks each set-up call in order; a failure (or the test-injected one) ends the child.
class ChildSteps {
public:
    explicit ChildSteps(const ChildPlan& plan) noexcept : plan_(plan) {}

    // child: async-signal-safe
    void check(bool ok, Step step, int op_index = -1) noexcept {
        if (!ok) child_fail(plan_, step, op_index);
        if (count_++ == plan_.fail_at) {
            errno = EIO;  // fault injection (tests): as if this call had failed
            child_fail(plan_, step, op_index);
        }
    }
    [[nodiscard]] const ChildPlan& plan() const noexcept { return plan_; }

private:
    const ChildPlan& plan_;
    int count_ = 0;
};

// child: async-signal-safe
void child_become_root(ChildSteps& c) noexcept {
    // Maps are written by the parent; ids stay host-unmapped (overflow) until we switch.
    c.check(::setgroups(0, nullptr) == 0, Step::setgroups);
    c.check(::setresgid(0, 0, 0) == 0, Step::setgid);
    c.check(::setresuid(0, 0, 0) == 0, Step::setuid);
    // After the id switch: a credential change clears the parent-death signal (prctl(2)). If the
    // spawner died in between, the server's end of fd 3 is closed too and the zygote exits on EOF.
    c.check(::prctl(PR_SET_PDEATHSIG, SIGKILL) == 0, Step::prctl);
}

// child: async-signal-safe
void child_build_root(ChildSteps& c) noexcept {
    const ChildPlan& plan = c.plan();
    // Nothing we mount may propagate back to the host (or from it into us).
    c.check(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0, Step::mount_private);
    for (std::size_t i = 0; i < plan.ops.size(); ++i) {
        c.check(child_do_op(plan.ops[i]) == 0, plan.ops[i].step, static_cast<int>(i));
    }
    c.check(::chdir(plan.stage.c_str()) == 0, Step::chdir);
    // pivot_root(".", "."): the old root ends up stacked on "." and is detached right away,
    // so no put_old directory is needed (see pivot_root(2), NOTES).
    c.check(::syscall(SYS_pivot_root, ".", ".") == 0, Step::pivot_root);
    c.check(::umount2(".", MNT_DETACH) == 0, Step::umount_old_root);
    c.check(::chdir("/") == 0, Step::chdir);
    // The root tmpfs is ours (not locked): remount it read-only, nosuid, nodev.
    c.check(::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
                    nullptr) == 0,
            Step::mount_remount);
}

// child: async-signal-safe
void child_setup_fds(ChildSteps& c) noexcept {
    const ChildPlan& plan = c.plan();
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    c.check(null_fd >= 0, Step::open);
    // dup2 clears FD_CLOEXEC on the target: 0..4 survive execve, everything else does not.
    c.check(::dup2(null_fd, 0) == 0 && ::dup2(2, 1) == 1 && ::dup2(plan.fds.control, 3) == 3 &&
                ::dup2(plan.fds.seccomp, 4) == 4,
            Step::fcntl);
    // CLOEXEC rather than close: the failure pipe must stay open until execve succeeds.
    c.check(::close_range(5, ~0U, CLOSE_RANGE_CLOEXEC) == 0, Step::fcntl);
}

}  // namespace

// child: async-signal-safe
void child_run_zygote(const ChildPlan& plan) noexcept {
    // If the spawner is already gone the release read sees EOF.
    char go = 0;
    if (::read(plan.fds.release, &go, 1) != 1) ::_exit(kSetupFailed);
    ChildSteps c{plan};
    child_become_root(c);
    child_build_root(c);
    c.check(::sethostname("sandbox", 7) == 0, Step::sethostname);
    child_setup_fds(c);
    sigset_t none;
    ::sigemptyset(&none);
    // The spawner blocks SIGCHLD for its signalfd; the mask would survive execve.
    c.check(::sigprocmask(SIG_SETMASK, &none, nullptr) == 0, Step::signal);
    ::execve(plan.python.c_str(), plan.argv.data(), plan.envp.data());
    child_fail(plan, Step::execve, -1);
}

}  // namespace sbx::sandbox
