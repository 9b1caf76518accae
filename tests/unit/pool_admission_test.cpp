// Admission: capacity, bounded queue (429), queue timeout, FIFO hand-over, shutdown.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include "pool/admission.h"

namespace sbx::pool {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

struct Slot {
    std::optional<AdmissionResult> result;
};

void acquire_into(asio::io_context& io, Admission& a, Slot& slot) {
    asio::co_spawn(io, [&]() -> asio::awaitable<void> { slot.result = co_await a.acquire(); },
                   asio::detached);
}

TEST(Admission, AdmitsUpToCapacityThenQueuesThenRejects) {
    asio::io_context io;
    Admission a(2, 1, 10s);
    Slot s1, s2, s3, s4;
    acquire_into(io, a, s1);
    acquire_into(io, a, s2);
    acquire_into(io, a, s3);  // queued
    acquire_into(io, a, s4);  // queue full
    io.run_for(50ms);
    ASSERT_TRUE(s1.result && s1.result->permit.valid());
    ASSERT_TRUE(s2.result && s2.result->permit.valid());
    EXPECT_FALSE(s3.result.has_value());
    ASSERT_TRUE(s4.result.has_value());
    EXPECT_EQ(s4.result->rejected, Rejection::queue_full);
    EXPECT_EQ(a.running(), 2U);
    EXPECT_EQ(a.queued(), 1U);

    s1.result.reset();  // releases a permit: the waiter gets it
    io.restart();
    io.run_for(50ms);
    ASSERT_TRUE(s3.result && s3.result->permit.valid());
    EXPECT_EQ(a.running(), 2U);
    EXPECT_EQ(a.queued(), 0U);
    s2.result.reset();
    s3.result.reset();
    EXPECT_EQ(a.running(), 0U);
}

TEST(Admission, QueueTimeoutRejects) {
    asio::io_context io;
    Admission a(1, 4, 30ms);
    Slot s1, s2;
    acquire_into(io, a, s1);
    acquire_into(io, a, s2);
    io.run_for(200ms);
    ASSERT_TRUE(s2.result.has_value());
    EXPECT_EQ(s2.result->rejected, Rejection::queue_timeout);
    EXPECT_EQ(a.queued(), 0U);
}

TEST(Admission, CloseRejectsWaitersAndNewcomers) {
    asio::io_context io;
    Admission a(1, 4, 10s);
    Slot s1, s2, s3;
    acquire_into(io, a, s1);
    acquire_into(io, a, s2);
    io.run_for(20ms);
    a.close();
    io.restart();
    io.run_for(20ms);
    ASSERT_TRUE(s2.result.has_value());
    EXPECT_EQ(s2.result->rejected, Rejection::shutting_down);
    acquire_into(io, a, s3);
    io.restart();
    io.run_for(20ms);
    ASSERT_TRUE(s3.result.has_value());
    EXPECT_EQ(s3.result->rejected, Rejection::shutting_down);
    s1.result.reset();
    EXPECT_EQ(a.running(), 0U);
}

TEST(Admission, ZeroQueueRejectsAtOnce) {
    asio::io_context io;
    Admission a(1, 0, 10s);
    Slot s1, s2;
    acquire_into(io, a, s1);
    acquire_into(io, a, s2);
    io.run_for(20ms);
    ASSERT_TRUE(s2.result.has_value());
    EXPECT_EQ(s2.result->rejected, Rejection::queue_full);
}

}  // namespace
}  // namespace sbx::pool
