// PeriodicTask on a caller's executor: repeats, never overlaps, stops for good.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <thread>

#include "store/periodic.h"

namespace sbx::store {
namespace {

using namespace std::chrono_literals;

TEST(PeriodicTask, RepeatsWithoutOverlapAndStops) {
    boost::asio::thread_pool pool(3);
    std::atomic<int> running{0}, overlaps{0}, calls{0};
    PeriodicTask task(pool.get_executor(), 5ms, [&] {
        if (++running > 1) ++overlaps;
        std::this_thread::sleep_for(2ms);
        ++calls;
        --running;
    });
    task.start();
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (calls < 5 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    task.stop();
    const int at_stop = calls;
    EXPECT_GE(at_stop, 5);
    EXPECT_EQ(task.runs(), static_cast<std::uint64_t>(at_stop));
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(calls.load(), at_stop) << "ran after stop()";
    EXPECT_EQ(overlaps.load(), 0);
    task.start();  // stopped for good
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(calls.load(), at_stop);
    pool.join();
}

TEST(PeriodicTask, StopWaitsForARunInProgress) {
    boost::asio::thread_pool pool(1);
    std::atomic<bool> inside{false}, finished{false};
    PeriodicTask task(pool.get_executor(), 1h, [&] {
        inside = true;
        std::this_thread::sleep_for(100ms);
        finished = true;
    });
    task.start();
    while (!inside) std::this_thread::sleep_for(1ms);
    task.stop();
    EXPECT_TRUE(finished.load());
    pool.join();
}

}  // namespace
}  // namespace sbx::store
