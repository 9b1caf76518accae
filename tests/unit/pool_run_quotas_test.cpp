// RunQuotas: the host's per-user limits divided between run uids; reading them from /proc.
#include "pool/run_quotas.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace sbx::pool {
namespace {

namespace fs = std::filesystem;

config::Config cfg_with(std::uint32_t uids, unsigned runs) {
    config::Config cfg;
    cfg.sandbox_uids = uids;
    cfg.max_concurrent_runs = runs;
    cfg.memory_limit_bytes = 512ULL << 20;
    cfg.pids_limit = 64;
    return cfg;
}

TEST(RunQuotas, PerUserLimitsAreSharedOutSoThatAllRunUidsFit) {
    HostLimits host;
    host.inotify_instances = 128;
    host.inotify_watches = 192540;
    host.sigpending = {96367, 96367};      // the zygotes' ceiling is finite (no CAP_SYS_RESOURCE)
    host.msgqueue = {819200, UINT64_MAX};  // unlimited ceiling: a run gets a user's default
    host.memlock = {8 << 20, 8 << 20};
    const auto q = plan_run_quotas(cfg_with(40, 4), host);
    EXPECT_EQ(q.uid_count, 40U);
    EXPECT_EQ(q.inotify_instances, 3U);  // 40 x 3 <= 128
    EXPECT_EQ(q.inotify_watches, 4813U);
    EXPECT_EQ(q.sigpending, 2409U);
    EXPECT_EQ(q.msgqueue, 819200U);
    EXPECT_EQ(q.memlock, (8U << 20) / 40);
    EXPECT_EQ(q.nproc, 64U);
    EXPECT_LE(q.uid_count * q.inotify_instances, host.inotify_instances);
    EXPECT_LE(q.uid_count * q.sigpending, host.sigpending.total);
}

TEST(RunQuotas, MoreUidsThanTheHostAllowsInstancesGiveNone) {
    HostLimits host;
    host.inotify_instances = 128;
    const auto q = plan_run_quotas(cfg_with(200, 4), host);
    EXPECT_EQ(q.inotify_instances, 0U);  // never more than the host's total, even 1 each
}

TEST(RunQuotas, SocketBytesStayUnderHalfTheHostTcpPressureThreshold) {
    HostLimits host;
    host.tcp_mem_low_bytes = 1ULL << 30;
    auto q = plan_run_quotas(cfg_with(0, 4), host);
    EXPECT_EQ(q.socket_bytes, 128ULL << 20);  // a quarter of 512 MiB; 4 x 128 MiB = 1/2 GiB
    EXPECT_EQ(q.socket_buffer_max, 4ULL << 20);
    q = plan_run_quotas(cfg_with(0, 64), host);
    EXPECT_EQ(q.socket_bytes, 8ULL << 20);  // 64 runs x 8 MiB = 1/2 GiB
    EXPECT_EQ(q.socket_buffer_max, 2ULL << 20);
    EXPECT_LE(64 * q.socket_bytes, host.tcp_mem_low_bytes / 2);
}

TEST(RunQuotas, AutoUidCountCoversRunsStockAndTeardown) {
    config::Config cfg = cfg_with(0, 4);
    cfg.prefork_runs = 2;
    EXPECT_EQ(cfg.effective_sandbox_uids(), 2U * 4 + 4 * 2 + 8);
    cfg.max_concurrent_runs = 4000;
    EXPECT_EQ(cfg.effective_sandbox_uids(), config::kMaxSandboxUids);
}

TEST(RunQuotas, UserNamespaceLimitsNameTheSysctls) {
    RunQuotas q;
    q.inotify_instances = 3;
    q.inotify_watches = 4813;
    EXPECT_EQ(user_namespace_limits(q),
              (std::vector<std::string>{"max_inotify_instances=3", "max_inotify_watches=4813",
                                        "max_fanotify_groups=0", "max_fanotify_marks=0"}));
}

TEST(RunQuotas, ReadsTheHostsSysctls) {
    const fs::path proc = fs::temp_directory_path() / ("sbx-quota-" + std::to_string(::getpid()));
    fs::create_directories(proc / "sys/fs/inotify");
    fs::create_directories(proc / "sys/net/ipv4");
    std::ofstream{proc / "sys/fs/inotify/max_user_instances"} << "512\n";
    std::ofstream{proc / "sys/fs/inotify/max_user_watches"} << "65536\n";
    std::ofstream{proc / "sys/net/ipv4/tcp_mem"} << "1000\t2000\t3000\n";
    const auto h = read_host_limits(proc);
    EXPECT_EQ(h.inotify_instances, 512U);
    EXPECT_EQ(h.inotify_watches, 65536U);
    EXPECT_EQ(h.tcp_mem_low_bytes, 1000U * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
    EXPECT_GT(h.sigpending.single, 0U);
    EXPECT_GE(h.sigpending.total, h.sigpending.single);
    fs::remove_all(proc);
}

}  // namespace
}  // namespace sbx::pool
