// SlirpLink: fork + exec of slirp4netns into a run's network namespace.
#include "network/slirp_link.h"

#include "sys/fd_util.h"

#include <fcntl.h>
#include <poll.h>
#include <linux/close_range.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <string>
#include <vector>

namespace sbx::network {
namespace {

using sys::Step;
using sys::UniqueFd;

// Fixed fds in the child, named on slirp4netns's command line.
constexpr int kNetnsFd = 3;
constexpr int kReadyFd = 4;
constexpr int kExitFd = 5;

// The child's exit status tells the parent which step failed (the child cannot log).
enum ChildFailure : int {
    kSetnsRun = 101,
    kOpenNs,
    kSetnsHost,
    kDupFds,
    kSetIds,
    kExec,
    kJoinGroup,
    kMountNs
};

[[noreturn]] void fail(ChildFailure f) { ::_exit(f); }

long raw(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
    return ::syscall(nr, a, b, c, d, e);
}

// child: async-signal-safe. A mount namespace of its own whose mounts propagate nowhere:
// slirp4netns's --enable-sandbox makes only "/" private before it detaches the old root, and
// that detach would otherwise propagate to the host's shared mounts below it and unmount them
// (e.g. every /run/netns/<name> of `ip netns`).
void child_private_mounts() {
    if (raw(SYS_unshare, CLONE_NEWNS) != 0) fail(kMountNs);
    if (raw(SYS_mount, 0, reinterpret_cast<long>("/"), 0, MS_REC | MS_PRIVATE, 0) != 0) {
        fail(kMountNs);
    }
}

struct ChildArgs {
    int run_netns, ready_write, exit_read;
    gid_t gid;
    const int* group_fds;
    std::size_t groups;
    const char* program;
    char* const* argv;
    char* const* envp;
};

// Everything between fork and exec: raw system calls on memory prepared before the fork.
[[noreturn]] void child(const ChildArgs& a) {
    // In the run's groups first: all the stack does counts against the run's limits.
    if (!child_join_cgroups(std::span<const int>(a.group_fds, a.groups))) fail(kJoinGroup);
    child_private_mounts();
    const int run_netns = a.run_netns;
    const int host_ns = static_cast<int>(raw(SYS_openat, AT_FDCWD, reinterpret_cast<long>("/proc/self/ns/net"),
                                             O_RDONLY | O_CLOEXEC));
    if (host_ns < 0) fail(kOpenNs);
    if (raw(SYS_setns, run_netns, CLONE_NEWNET) != 0) fail(kSetnsRun);
    const int run_ns = static_cast<int>(raw(SYS_openat, AT_FDCWD, reinterpret_cast<long>("/proc/thread-self/ns/net"),
                                            O_RDONLY | O_CLOEXEC));
    if (run_ns < 0) fail(kOpenNs);
    if (raw(SYS_setns, host_ns, CLONE_NEWNET) != 0) fail(kSetnsHost);  // slirp itself stays on the host
    // Move the three fds above any target number first, then into place (dup3 clears CLOEXEC).
    const std::array<int, 3> src{run_ns, a.ready_write, a.exit_read};
    std::array<int, 3> high{};
    for (std::size_t i = 0; i < src.size(); ++i) {
        high[i] = static_cast<int>(raw(SYS_fcntl, src[i], F_DUPFD_CLOEXEC, 64));
        if (high[i] < 0) fail(kDupFds);
    }
    const std::array<int, 3> target{kNetnsFd, kReadyFd, kExitFd};
    for (std::size_t i = 0; i < src.size(); ++i) {
        if (raw(SYS_dup3, high[i], target[i], 0) < 0) fail(kDupFds);
    }
    const int devnull = static_cast<int>(raw(SYS_openat, AT_FDCWD, reinterpret_cast<long>("/dev/null"), O_RDWR));
    if (devnull < 0) fail(kDupFds);
    for (int fd = 0; fd <= 2; ++fd) {
        if (raw(SYS_dup2, devnull, fd) < 0) fail(kDupFds);
    }
    if (raw(SYS_close_range, kExitFd + 1, ~0U, 0) != 0) fail(kDupFds);
    // Root, but in a group of its own and none other: what the firewall table matches.
    if (raw(SYS_setgroups, 0, 0) != 0 || raw(SYS_setresgid, a.gid, a.gid, a.gid) != 0) {
        fail(kSetIds);
    }
    raw(SYS_execve, reinterpret_cast<long>(a.program), reinterpret_cast<long>(a.argv),
        reinterpret_cast<long>(a.envp));
    fail(kExec);
}

}  // namespace

bool child_join_cgroups(std::span<const int> procs_fds) noexcept {
    for (const int fd : procs_fds) {
        if (raw(SYS_write, fd, reinterpret_cast<long>("0"), 1) != 1) return false;
    }
    return true;
}

SlirpLink::~SlirpLink() {
    if (!process_.running() || !reaper_) return;  // members: kill, reap, free the gid
    (void)sys::raw_pidfd_send_signal(process_.pidfd(), SIGKILL);
    reaper_->adopt(std::move(process_), std::move(gid_));
}

sys::Result<SlirpLink> SlirpLink::start(const SlirpOptions& options, int run_netns, GidLease gid,
                                        std::shared_ptr<LinkReaper> reaper,
                                        std::span<const int> run_groups) {
    SBX_TRY(auto ready, sys::make_pipe("link ready"));
    SBX_TRY(auto exit_pipe, sys::make_pipe("link exit"));
    // argv and envp exist before the fork: the child must not allocate.
    std::vector<std::string> args = {
        options.program.string(), "--configure", "--mtu=" + std::to_string(options.mtu),
        "--disable-host-loopback", "--enable-sandbox", "--enable-seccomp",
        "--ready-fd=" + std::to_string(kReadyFd), "--exit-fd=" + std::to_string(kExitFd),
        "--netns-type=path", "/proc/self/fd/" + std::to_string(kNetnsFd), "tap0"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string path_env = "PATH=/usr/bin:/bin";
    std::array<char*, 2> envp{path_env.data(), nullptr};
    const std::string program = options.program.string();

    const ChildArgs child_args{run_netns, ready.write.get(), exit_pipe.read.get(), gid.id(),
                               run_groups.data(), run_groups.size(), program.c_str(),
                               argv.data(), envp.data()};

    const pid_t pid = ::fork();
    if (pid < 0) return sys::errno_error(Step::fork, "slirp4netns");
    if (pid == 0) child(child_args);
    auto pidfd = sys::open_pidfd(pid);
    if (!pidfd) {  // cannot happen for our own unreaped child; do not leave it running
        ::kill(pid, SIGKILL);
        sys::ChildProcess orphan{pid, UniqueFd{}};
        return pidfd.error();
    }
    SlirpLink link;
    link.reaper_ = std::move(reaper);
    link.gid_ = std::move(gid);
    link.ready_read_ = std::move(ready.read);
    link.exit_write_ = std::move(exit_pipe.write);
    link.process_ = sys::ChildProcess{pid, std::move(*pidfd)};
    return link;
}

bool SlirpLink::alive() const {
    if (!process_.running()) return false;
    pollfd p{process_.pidfd(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
}

std::string SlirpLink::failure() {
    const int status = process_.wait_for(std::chrono::milliseconds(1000));
    if (status == -1) return "slirp4netns closed its ready pipe but did not exit";
    if (!WIFEXITED(status)) return "slirp4netns was killed by signal " + std::to_string(WTERMSIG(status));
    switch (WEXITSTATUS(status)) {
        case kSetnsRun: return "setns into the run's network namespace failed";
        case kOpenNs: return "opening a network namespace file failed";
        case kSetnsHost: return "setns back to the host's network namespace failed";
        case kDupFds: return "fd set-up failed";
        case kSetIds: return "setgroups/setresgid failed";
        case kExec: return "exec of slirp4netns failed (is the slirp4netns package installed?)";
        case kJoinGroup: return "joining the run's cgroup failed";
        case kMountNs: return "a private mount namespace for slirp4netns failed";
        default:
            return "slirp4netns exited with status " + std::to_string(WEXITSTATUS(status)) +
                   " before its interface was up";
    }
}

}  // namespace sbx::network
