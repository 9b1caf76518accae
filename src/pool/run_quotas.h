// RunQuotas: each run's share of the kernel's per-user quotas and of the host's socket memory,
// worked out once at start-up from the settings and the host's limits (docs/SECURITY.md,
// "Shared kernel resources").
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"

namespace sbx::pool {

// One rlimit-like quota: what a program of the server's user gets (the server's soft limit, or
// Linux's default for a user when that is unlimited), and the ceiling of the total of all runs.
struct UserQuota {
    std::uint64_t single = 0;
    std::uint64_t total = UINT64_MAX;  // UINT64_MAX: unlimited
};

// What the host allows one user. Read by read_host_limits(); defaults are Linux's.
struct HostLimits {
    std::uint64_t inotify_instances = 128;     // fs.inotify.max_user_instances
    std::uint64_t inotify_watches = 8192;      // fs.inotify.max_user_watches
    std::uint64_t tcp_mem_low_bytes = 0;       // net.ipv4.tcp_mem[0] in bytes (0: unknown)
    UserQuota sigpending{4096};                // RLIMIT_SIGPENDING
    UserQuota msgqueue{819200};                // RLIMIT_MSGQUEUE
    UserQuota memlock{8ULL << 20};             // RLIMIT_MEMLOCK
};

// Reads the host's values from `proc` (/proc/sys/...) and this process's rlimits; a value that
// cannot be read keeps its default. Call once, before the spawner is forked: it also raises this
// process's RLIMIT_SIGPENDING, MSGQUEUE and MEMLOCK as far as it may (unlimited with
// CAP_SYS_RESOURCE, else the soft limit up to the hard one). The spawner inherits them, and a
// user namespace takes its creator's limits as the ceilings of everything charged to its owner
// one level up: for the zygotes' namespaces, the totals of all of this server's runs.
[[nodiscard]] HostLimits read_host_limits(const std::filesystem::path& proc = "/proc");

struct RunQuotas {
    // Run uids: host SANDBOX_UID_BASE + 1 ... + uid_count, one held by each prepared or
    // running run. In the zygotes' user namespaces they are uids 1000 ... 999 + uid_count.
    std::uint32_t uid_count = 1;
    // Per run uid in each zygote's user namespace (/proc/sys/user/max_*): their sum over every
    // run uid stays within the host's per-user limit that all of this server's runs share.
    std::uint64_t inotify_instances = 0;
    std::uint64_t inotify_watches = 0;
    // rlimits each run sets for itself before its program starts (per run uid in the kernel);
    // where the zygotes' ceiling is finite, a share of it, so that all run uids fit under it.
    std::uint64_t nproc = 64;
    std::uint64_t sigpending = 4096;
    std::uint64_t msgqueue = 819200;
    std::uint64_t memlock = 8ULL << 20;
    // cgroup v1: memory.kmem.tcp.limit_in_bytes of each run (v1 keeps socket buffers in a
    // counter of their own; v2 charges them to memory.max).
    std::uint64_t socket_bytes = 64ULL << 20;
    // Largest TCP buffer the kernel's autotuning gives one socket in the run's network
    // namespace (net.ipv4.tcp_rmem / tcp_wmem, third field).
    std::uint64_t socket_buffer_max = 4ULL << 20;
};

[[nodiscard]] RunQuotas plan_run_quotas(const config::Config& cfg, const HostLimits& host);

// The zygote's user-namespace limits, "name=value" for /proc/sys/user/<name>: inotify shares,
// and no fanotify groups or marks (the seccomp filter refuses fanotify_init as well).
[[nodiscard]] std::vector<std::string> user_namespace_limits(const RunQuotas& q);

}  // namespace sbx::pool
