// HistoryRecorder against real databases: batched writes, the queue bound, records the database
// refuses, and PostgreSQL stopped and restarted while runs are recorded (nothing lost).
#include <boost/asio/thread_pool.hpp>
#include <thread>

#include "store/history_recorder.h"
#include "store_fixture.h"

namespace sbx::testing {
namespace {

using namespace std::chrono_literals;
using store::HistoryRecorder;
using store::RecorderOptions;

store::RunRecord run(int i) {
    store::RunRecord r;
    r.run_id = "run-" + std::to_string(i);
    r.key_id = "k";
    r.started_us = 1'000'000 + i;
    r.status = "success";
    r.code = "print(" + std::to_string(i) + ")";
    r.stdout_text = std::string(100, 'o');
    return r;
}

std::int64_t rows(store::Database& db) {
    auto r = db.get<store::QueryResult>(
        store::Tx::none, [](store::Connection& c) { return c.query("SELECT COUNT(*) FROM runs"); });
    return r ? store::int_at(r->rows.at(0), 0) : -1;
}

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

class Recorder : public StoreTest {
   protected:
    boost::asio::thread_pool pool_{2};  // stands for the service's blocking-work pool
    void TearDown() override { pool_.join(); }
};

TEST_P(Recorder, WritesEverythingInBatchesAndKeepsTextOnlyWhenAsked) {
    RecorderOptions o;
    o.batch_size = 100;
    {
        HistoryRecorder rec(repo(), pool_.get_executor(), o);
        for (int i = 0; i < 3000; ++i) ASSERT_TRUE(rec.record(run(i)));
        ASSERT_TRUE(wait_for([&] { return rec.status().queued == 0; }, 20s));
        auto s = rec.status();
        EXPECT_EQ(s.written, 3000u);
        EXPECT_EQ(s.dropped, 0u);
        EXPECT_FALSE(s.degraded);
    }
    EXPECT_EQ(rows(db()), 3000);
    auto kept = repo().get_run("run-7", std::nullopt).value();
    EXPECT_FALSE(kept->code);  // metadata only
    o.keep_text = true;
    o.max_text_bytes = 10;
    HistoryRecorder full(repo(), pool_.get_executor(), o);
    ASSERT_TRUE(full.record(run(5000)));
    full.stop(10s);
    auto with_text = repo().get_run("run-5000", std::nullopt).value();
    EXPECT_EQ(with_text->code, "print(5000");  // truncated to 10 bytes
    EXPECT_EQ(with_text->stdout_text, std::string(10, 'o'));
}

TEST_P(Recorder, ARecordTheDatabaseRefusesIsDroppedAloneAndCounted) {
    HistoryRecorder rec(repo(), pool_.get_executor(), {});
    for (int i = 0; i < 50; ++i) {
        auto r = run(i);
        if (i == 25) r.session_id = std::string("nul\0byte", 8);
        ASSERT_TRUE(rec.record(r));
    }
    rec.stop(20s);
    auto s = rec.status();
    EXPECT_EQ(s.rejected, 1u);
    EXPECT_EQ(s.written, 49u);
    EXPECT_EQ(rows(db()), 49);
}

class RecorderOnPostgres : public Recorder {};

TEST_P(RecorderOnPostgres, ServerStoppedAndRestartedNothingLost) {
    RecorderOptions o;
    o.retry_min = 50ms;
    o.retry_max = 200ms;
    HistoryRecorder rec(repo(), pool_.get_executor(), o);
    std::atomic<int> fed{0};
    std::atomic<bool> feeding{true};
    std::thread feeder([&] {
        while (feeding) {
            for (int k = 0; k < 10; ++k) {
                const auto t0 = std::chrono::steady_clock::now();
                EXPECT_TRUE(rec.record(run(fed++)));
                // Recording never waits for the database.
                EXPECT_LT(std::chrono::steady_clock::now() - t0, 50ms);
            }
            std::this_thread::sleep_for(5ms);
        }
    });
    std::this_thread::sleep_for(300ms);
    shared_postgres().stop();
    EXPECT_TRUE(wait_for([&] { return rec.status().degraded; }, 10s));
    std::this_thread::sleep_for(500ms);
    auto down = rec.status();
    EXPECT_TRUE(down.degraded);
    EXPECT_NE(down.reason.find("unavailable"), std::string::npos) << down.reason;
    EXPECT_GT(down.queued, 0u);
    shared_postgres().start();
    std::this_thread::sleep_for(300ms);
    feeding = false;
    feeder.join();
    ASSERT_TRUE(wait_for([&] { return rec.status().queued == 0; }, 30s)) << rec.status().reason;
    auto up = rec.status();
    EXPECT_FALSE(up.degraded) << up.reason;
    EXPECT_EQ(up.dropped, 0u);
    EXPECT_EQ(up.written, static_cast<std::uint64_t>(fed.load()));
    EXPECT_EQ(rows(db()), fed.load());
}

TEST_P(RecorderOnPostgres, AFullQueueDropsAndCountsWhileTheDatabaseIsDown) {
    RecorderOptions o;
    o.queue_capacity = 100;
    o.retry_min = 50ms;
    o.retry_max = 100ms;
    HistoryRecorder rec(repo(), pool_.get_executor(), o);
    shared_postgres().stop();
    int accepted = 0;
    for (int i = 0; i < 250; ++i) accepted += rec.record(run(i)) ? 1 : 0;
    EXPECT_EQ(accepted, 100);
    EXPECT_EQ(rec.status().dropped, 150u);
    shared_postgres().start();
    ASSERT_TRUE(wait_for([&] { return rec.status().queued == 0; }, 30s)) << rec.status().reason;
    EXPECT_EQ(rec.status().written, 100u);
    EXPECT_EQ(rows(db()), 100);
}

SBX_BOTH_ENGINES(Recorder);
INSTANTIATE_TEST_SUITE_P(Engines, RecorderOnPostgres, ::testing::Values(Engine::postgres),
                         engine_name);

}  // namespace
}  // namespace sbx::testing
