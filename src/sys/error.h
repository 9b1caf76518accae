// System-call errors as values: the step that failed, its errno, and a detail (path, argument).
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace sbx::sys {

// Every step that can fail while setting up, running or tearing down a sandbox.
// Add new steps at the end of their group; names are stable (they appear in logs and responses).
// The Python runtime names its failed steps with these names too (the list it may send is in
// pool/run_verdict.cpp); `internal` is its report of an exception that no step caught.
enum class Step : std::uint8_t {
    // generic
    open, read, write, close, stat, mkdir, rmdir, unlink, socket, sendmsg, recvmsg, pipe, fcntl,
    memfd, chown, poll, signal, waitpid,
    // process creation and namespaces
    fork, clone, pidfd_open, pidfd_signal, uid_map, gid_map, setgroups, setuid, setgid, unshare,
    prctl, execve, capabilities, sethostname, fork_run, drop_caps, set_ids,
    no_new_privs,
    // mounts and root file system
    mount_tmpfs, mount_bind, mount_remount, mount_proc, mount_private, make_dir, symlink,
    pivot_root, umount_old_root, chdir, mask_proc,
    // limits and filters
    seccomp_build, seccomp_load, rlimit, cgroup_detect, cgroup_create, cgroup_limit,
    cgroup_attach, cgroup_kill, cgroup_remove, cgroup_stat, cgroup_join,
    // work directory and files
    workdir, write_input, collect_output,
    // protocol with the spawner / zygote
    spawner_start, spawner_protocol, zygote_start, zygote_protocol, run_protocol, wait_go,
    internal,
    // network
    setns, firewall, network_start, network_ready, loopback_up,
    // per-run kernel quotas: the zygote's user-namespace limits, a run's socket buffers, the
    // server's pool of run uids
    user_limits, net_limits, uid_pool,
};

std::string_view to_string(Step step) noexcept;

struct SysError {
    Step step;
    int err;             // errno of the failing call (0 when the failure has no errno)
    std::string detail;  // what it was done to: a path, an argument; never secret

    // "pivot_root: EPERM (Operation not permitted) [/run/sbx/17]"
    [[nodiscard]] std::string render() const;
};

template <class T = void>
using Result = boost::system::result<T, SysError>;

// Makes a SysError from the current errno; call it right after the failing call.
[[nodiscard]] SysError errno_error(Step step, std::string detail = {});

// Needed by boost::system::result<T, SysError>::value(): throws std::system_error with render().
[[noreturn]] void throw_exception_from_error(const SysError& e, const boost::source_location& loc);

}  // namespace sbx::sys

// SBX_TRY(auto x, expr) / SBX_TRY_VOID(expr): propagate a failed Result to the caller.
#define SBX_CONCAT_INNER(a, b) a##b
#define SBX_CONCAT(a, b) SBX_CONCAT_INNER(a, b)
#define SBX_TRY_IMPL(tmp, decl, expr)                  \
    auto tmp = (expr);                                 \
    if (!tmp) return std::move(tmp).error();           \
    decl = std::move(*tmp)
#define SBX_TRY(decl, expr) SBX_TRY_IMPL(SBX_CONCAT(sbx_try_, __LINE__), decl, expr)
// Coroutine forms (co_return instead of return).
#define SBX_CO_TRY_IMPL(tmp, decl, expr)               \
    auto tmp = (expr);                                 \
    if (!tmp) co_return std::move(tmp).error();        \
    decl = std::move(*tmp)
#define SBX_CO_TRY(decl, expr) SBX_CO_TRY_IMPL(SBX_CONCAT(sbx_co_try_, __LINE__), decl, expr)
#define SBX_CO_TRY_VOID(expr)                                \
    do {                                                     \
        auto sbx_try_void_ = (expr);                         \
        if (!sbx_try_void_) co_return sbx_try_void_.error(); \
    } while (0)
#define SBX_TRY_VOID(expr)                                   \
    do {                                                     \
        auto sbx_try_void_ = (expr);                         \
        if (!sbx_try_void_) return sbx_try_void_.error();    \
    } while (0)
