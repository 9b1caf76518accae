// Retention as configured (HISTORY_RETENTION_DAYS, HISTORY_MAX_ROWS), both engines.
#include <boost/asio/thread_pool.hpp>
#include <thread>

#include "store/retention.h"
#include "store_fixture.h"

namespace sbx::testing {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

store::TimeUs us(system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

class RetentionPasses : public StoreTest {
   protected:
    boost::asio::thread_pool pool_{1};
    void TearDown() override { pool_.join(); }
};

TEST_P(RetentionPasses, DaysThenRowsThenUsage) {
    const auto now = system_clock::now();
    std::vector<store::RunRecord> runs;
    for (int age_days = 0; age_days < 10; ++age_days) {
        for (int k = 0; k < 5; ++k) {
            store::RunRecord r;
            r.run_id = "r" + std::to_string(age_days) + "-" + std::to_string(k);
            r.started_us = us(now - std::chrono::hours(24) * age_days - std::chrono::minutes(k));
            r.status = "success";
            runs.push_back(r);
        }
    }
    ASSERT_TRUE(repo().insert_runs(runs));
    std::vector<store::CpuDelta> usage{{"key:a", "2000-01-01", 5}};
    ASSERT_TRUE(repo().add_cpu_usage(usage));
    ASSERT_TRUE(repo().take_rate_tokens("key:idle", 1, 1, 1, us(now - 2h)));

    store::RetentionSettings s;
    s.days = 7;  // ages 0..6 stay (35 runs; age 7 is exactly 7 days and a few minutes: gone)
    s.max_rows = 20;
    store::Retention retention(repo(), pool_.get_executor(), s, [&] { return now; });
    auto removed = retention.run_once().value();
    EXPECT_EQ(removed.runs, 50 - 20);
    EXPECT_EQ(removed.usage_rows, 2);  // the old day and the idle bucket
    store::RunQuery q;
    q.limit = 100;
    auto left = repo().list_runs(q).value().runs;
    ASSERT_EQ(left.size(), 20u);
    EXPECT_EQ(left.front().run_id, "r0-0");
    EXPECT_EQ(left.back().run_id, "r3-4");
    EXPECT_EQ(retention.status().passes, 1u);
    EXPECT_EQ(retention.status().removed.runs, 30);

    // 0 = keep: nothing goes.
    store::RetentionSettings keep;
    keep.days = 0;
    keep.max_rows = 0;
    store::Retention none(repo(), pool_.get_executor(), keep, [&] { return now + 1000h; });
    EXPECT_EQ(none.run_once().value().runs, 0);
    EXPECT_FALSE(none.policy_at(now).runs_before);
    EXPECT_FALSE(none.policy_at(now).max_rows);
}

TEST_P(RetentionPasses, RunsPeriodicallyOnTheGivenExecutor) {
    store::RetentionSettings s;
    s.interval = 20ms;
    store::Retention retention(repo(), pool_.get_executor(), s);
    retention.start();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (retention.status().passes < 3 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    retention.stop();
    EXPECT_GE(retention.status().passes, 3u);
    EXPECT_EQ(retention.status().last_error, "");
}

SBX_BOTH_ENGINES(RetentionPasses);

}  // namespace
}  // namespace sbx::testing
