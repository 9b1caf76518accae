// Usage shared by replicas, both engines: CPU-seconds per day, and the shared token bucket —
// replicas hammering one key together stay within its rate and burst.
#include <atomic>
#include <chrono>
#include <thread>

#include "store_fixture.h"

namespace sbx::testing {
namespace {

class Usage : public StoreTest {};

TEST_P(Usage, CpuSecondsAddUpAcrossReplicas) {
    auto other = location_->open(1);
    std::vector<store::CpuDelta> a{{"key:a", "2026-12-06", 1.5}, {"ip:10.0.0.1", "2026-12-06", 2}};
    EXPECT_EQ(repo().add_cpu_usage(a).value(), (std::vector<double>{1.5, 2}));
    std::vector<store::CpuDelta> b{{"key:a", "2026-12-06", 0.25}, {"key:a", "2026-12-07", 9}};
    EXPECT_EQ(other.repository->add_cpu_usage(b).value(), (std::vector<double>{1.75, 9}));
    std::vector<std::string> keys{"key:a", "ip:10.0.0.1", "key:none", "' OR 1=1 --"};
    auto totals = repo().cpu_usage(keys, "2026-12-06").value();
    EXPECT_EQ(totals.size(), 2u);
    EXPECT_DOUBLE_EQ(totals["key:a"], 1.75);
    EXPECT_DOUBLE_EQ(totals["ip:10.0.0.1"], 2);
    store::RetentionPolicy p;
    p.usage_before_day = "2026-12-07";
    EXPECT_EQ(repo().prune(p).value().usage_rows, 2);
    EXPECT_TRUE(repo().cpu_usage(keys, "2026-12-06").value().empty());
}

TEST_P(Usage, SharedBucketRefillsAndIgnoresAClockGoingBack) {
    const store::TimeUs t = 1'000'000'000;
    // rate 2/s, burst 5: a new bucket is full.
    auto g = repo().take_rate_tokens("key:x", 2, 5, 3, t).value();
    EXPECT_EQ(g.granted, 3);
    EXPECT_DOUBLE_EQ(g.tokens_left, 2);
    g = repo().take_rate_tokens("key:x", 2, 5, 3, t).value();
    EXPECT_EQ(g.granted, 2);
    g = repo().take_rate_tokens("key:x", 2, 5, 1, t).value();
    EXPECT_EQ(g.granted, 0);
    // The clock goes back 10 s: no refill, and the bucket's time does not move back...
    g = repo().take_rate_tokens("key:x", 2, 5, 1, t - 10'000'000).value();
    EXPECT_EQ(g.granted, 0);
    // ...so that half a second after the true time gives one token, not 21.
    g = repo().take_rate_tokens("key:x", 2, 5, 10, t + 500'000).value();
    EXPECT_EQ(g.granted, 1);
    g = repo().take_rate_tokens("key:x", 2, 5, 10, t + 100'000'000).value();
    EXPECT_EQ(g.granted, 5);  // capped at the burst
    // Hostile bucket names are just names.
    EXPECT_EQ(repo().take_rate_tokens("'; DROP TABLE rate_buckets; --", 1, 1, 1, t).value().granted,
              1);
}

TEST_P(Usage, ReplicasTogetherStayWithinTheRate) {
    constexpr double kRate = 40, kBurst = 10;
    const std::string bucket = "key:shared";
    std::atomic<std::int64_t> granted{0};
    std::atomic<bool> stop{false};
    std::vector<store::Store> replicas;
    for (int i = 0; i < 2; ++i) replicas.push_back(location_->open(2));
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&, i] {
            auto& repo = *replicas[static_cast<std::size_t>(i % 2)].repository;
            while (!stop) {
                // The database's clock: one clock for both replicas.
                auto g = repo.take_rate_tokens(bucket, kRate, kBurst, 2, std::nullopt);
                if (g) granted += g->granted;
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    stop = true;
    for (auto& t : threads) t.join();
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double allowed = kBurst + kRate * elapsed;
    EXPECT_LE(static_cast<double>(granted), allowed * 1.1) << "elapsed " << elapsed;
    EXPECT_GE(static_cast<double>(granted), kRate * 1.5 * 0.8) << "the bucket does not refill";
}

SBX_BOTH_ENGINES(Usage);

}  // namespace
}  // namespace sbx::testing
