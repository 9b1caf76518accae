// RunQuotas: reading the host's per-user limits and dividing them between run uids.
#include "pool/run_quotas.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <optional>

namespace sbx::pool {
namespace {

constexpr std::uint64_t kMiB = 1ULL << 20;
constexpr std::uint64_t kSocketBufferMax = 4 * kMiB;  // Linux's default tcp_wmem max
constexpr std::uint64_t kSocketBufferMin = 256 * 1024;  // above tcp_rmem's default (128 KiB)
constexpr std::uint64_t kSocketBytesMin = 4 * kMiB;

// The first number of a /proc/sys file, if it has one.
std::optional<std::uint64_t> read_first(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::uint64_t v = 0;
    if (in >> v) return v;
    return std::nullopt;
}

// The server's soft limit as what one program gets; then raised as far as this process may.
UserQuota raise_user_quota(int resource, std::uint64_t linux_default) {
    UserQuota q{linux_default};
    rlimit r{};
    if (::getrlimit(resource, &r) != 0) return q;
    if (r.rlim_cur != RLIM_INFINITY) q.single = r.rlim_cur;
    const rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
    if (::setrlimit(resource, &unlimited) != 0) {  // no CAP_SYS_RESOURCE: up to the hard limit
        r.rlim_cur = r.rlim_max;
        if (::setrlimit(resource, &r) != 0) (void)::getrlimit(resource, &r);
        if (r.rlim_cur != RLIM_INFINITY) q.total = r.rlim_cur;
    }
    return q;
}

// A run's value: what one program gets, but no more than its share of the total.
std::uint64_t share(const UserQuota& q, std::uint32_t uids) {
    if (q.total == UINT64_MAX) return q.single;
    return std::min(q.single, q.total / uids);
}

}  // namespace

HostLimits read_host_limits(const std::filesystem::path& proc) {
    HostLimits h;
    const auto sys = proc / "sys";
    h.inotify_instances = read_first(sys / "fs/inotify/max_user_instances").value_or(h.inotify_instances);
    h.inotify_watches = read_first(sys / "fs/inotify/max_user_watches").value_or(h.inotify_watches);
    const long page = ::sysconf(_SC_PAGESIZE);
    if (auto pages = read_first(sys / "net/ipv4/tcp_mem"); pages && page > 0) {
        h.tcp_mem_low_bytes = *pages * static_cast<std::uint64_t>(page);
    }
    h.sigpending = raise_user_quota(RLIMIT_SIGPENDING, h.sigpending.single);
    h.msgqueue = raise_user_quota(RLIMIT_MSGQUEUE, h.msgqueue.single);
    h.memlock = raise_user_quota(RLIMIT_MEMLOCK, h.memlock.single);
    return h;
}

RunQuotas plan_run_quotas(const config::Config& cfg, const HostLimits& host) {
    RunQuotas q;
    q.uid_count = std::max<std::uint32_t>(cfg.effective_sandbox_uids(), 1);
    // Every run of every zygote of this server is charged, one level up, to the user that
    // owns the zygotes' namespaces; the host allows that user these totals.
    q.inotify_instances = host.inotify_instances / q.uid_count;
    q.inotify_watches = host.inotify_watches / q.uid_count;
    q.nproc = cfg.pids_limit;
    q.sigpending = share(host.sigpending, q.uid_count);
    q.msgqueue = share(host.msgqueue, q.uid_count);
    q.memlock = share(host.memlock, q.uid_count);
    // Socket buffers of all runs at once stay under half the host's TCP pressure threshold
    // (tcp_mem[0]), where the kernel starts squeezing every TCP socket of the host; and a run's
    // sockets get at most a quarter of its MEMORY_LIMIT on top of it (v1 counts them apart).
    std::uint64_t socket_bytes = cfg.memory_limit_bytes / 4;
    if (host.tcp_mem_low_bytes > 0) {
        const std::uint64_t runs = std::max(cfg.effective_max_concurrent_runs(), 1U);
        socket_bytes = std::min(socket_bytes, host.tcp_mem_low_bytes / (2 * runs));
    }
    q.socket_bytes = std::max(socket_bytes, kSocketBytesMin);
    q.socket_buffer_max = std::clamp(q.socket_bytes / 4, kSocketBufferMin, kSocketBufferMax);
    return q;
}

std::vector<std::string> user_namespace_limits(const RunQuotas& q) {
    return {
        "max_inotify_instances=" + std::to_string(q.inotify_instances),
        "max_inotify_watches=" + std::to_string(q.inotify_watches),
        "max_fanotify_groups=0",
        "max_fanotify_marks=0",
    };
}

}  // namespace sbx::pool
