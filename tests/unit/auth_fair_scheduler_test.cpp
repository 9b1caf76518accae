// Fair admission: round-robin among subjects for run slots, per-subject limits, bounded queue;
// the scheduler alone, then FairAdmission with coroutines and timers.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <map>

#include "auth/fair_admission.h"
#include "auth/fair_scheduler.h"

namespace sbx::auth {
namespace {

using Outcome = FairScheduler::Outcome;

TEST(FairScheduler, AFloodingSubjectDoesNotStarveAnother) {
    FairScheduler s(4, 100);
    std::map<Ticket, std::string> owner;
    // A takes every slot and queues 12 more; then B comes with one request.
    for (int i = 0; i < 16; ++i) {
        auto e = s.enter("A", 0);
        if (e.outcome == Outcome::queued) owner[e.ticket] = "A";
    }
    EXPECT_EQ(s.running(), 4u);
    EXPECT_EQ(s.queued(), 12u);
    auto b = s.enter("B", 0);
    ASSERT_EQ(b.outcome, Outcome::queued);
    owner[b.ticket] = "B";
    // The first slot A gives back goes to... A's first waiter (it came first), the next to B:
    // B waits for at most one grant per subject ahead of it, not for A's whole queue.
    auto first = s.release("A");
    ASSERT_TRUE(first);
    auto second = s.release("A");
    ASSERT_TRUE(second);
    EXPECT_EQ(owner[*first], "A");
    EXPECT_EQ(owner[*second], "B");
    EXPECT_EQ(s.in_flight("B"), 1u);
}

TEST(FairScheduler, RoundRobinAmongManySubjects) {
    FairScheduler s(1, 1000);
    ASSERT_EQ(s.enter("holder", 0).outcome, Outcome::granted);
    std::map<Ticket, std::string> owner;
    for (int round = 0; round < 3; ++round) {
        for (const char* who : {"a", "b", "c"}) owner[s.enter(who, 0).ticket] = who;
    }
    std::string order;
    std::string holder = "holder";
    for (int i = 0; i < 9; ++i) {
        auto t = s.release(holder);
        ASSERT_TRUE(t);
        holder = owner[*t];
        order += holder;
    }
    EXPECT_EQ(order, "abcabcabc");
    EXPECT_FALSE(s.release(holder));
    EXPECT_EQ(s.running(), 0u);
    EXPECT_EQ(s.subjects(), 0u) << "idle subjects are forgotten";
}

TEST(FairScheduler, PerSubjectLimitQueueBoundAndCancel) {
    FairScheduler s(1, 2);
    ASSERT_EQ(s.enter("A", 2).outcome, Outcome::granted);
    auto waiting = s.enter("A", 2);
    ASSERT_EQ(waiting.outcome, Outcome::queued);
    EXPECT_EQ(s.enter("A", 2).outcome, Outcome::key_busy);  // 2 in flight: running + waiting
    auto b = s.enter("B", 0);
    ASSERT_EQ(b.outcome, Outcome::queued);
    EXPECT_EQ(s.enter("C", 0).outcome, Outcome::queue_full);
    EXPECT_TRUE(s.cancel(waiting.ticket));
    EXPECT_FALSE(s.cancel(waiting.ticket));
    EXPECT_EQ(s.queued(), 1u);
    EXPECT_EQ(s.release("A"), b.ticket);
    EXPECT_FALSE(s.cancel(b.ticket));  // granted: no longer waiting
    EXPECT_FALSE(s.release("nobody"));
    EXPECT_EQ(s.release("B"), std::nullopt);
    EXPECT_EQ(s.subjects(), 0u);
}

TEST(FairScheduler, NewcomersQueueBehindWaitersEvenWithAFreeSlot) {
    FairScheduler s(2, 10);
    ASSERT_EQ(s.enter("A", 0).outcome, Outcome::granted);
    ASSERT_EQ(s.enter("A", 0).outcome, Outcome::granted);
    auto w = s.enter("B", 0);
    ASSERT_EQ(w.outcome, Outcome::queued);
    EXPECT_EQ(s.release("A"), w.ticket);
    // One slot free would now be taken by a newcomer only when nobody waits.
    ASSERT_EQ(s.release("A"), std::nullopt);
    EXPECT_EQ(s.enter("C", 0).outcome, Outcome::granted);
}

namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(FairAdmission, FloodedSlotsReachTheQuietSubjectSoon) {
    asio::io_context io;
    FairAdmission adm(2, 100, 10s);
    std::vector<std::string> finished;
    // A runs 16 requests with a concurrency limit of 4 (the rest refused), each holding its
    // slot 10 ms; B's single request must not wait for all of A's.
    auto run = [&](std::string who, unsigned limit) -> asio::awaitable<void> {
        auto r = co_await adm.acquire(who, limit);
        if (!r.permit.valid()) {
            finished.push_back(who + ":" + std::to_string(static_cast<int>(*r.refused)));
            co_return;
        }
        asio::steady_timer t(co_await asio::this_coro::executor, 10ms);
        co_await t.async_wait(asio::use_awaitable);
        finished.push_back(who);
    };
    for (int i = 0; i < 16; ++i) asio::co_spawn(io, run("A", 4), asio::detached);
    asio::co_spawn(io, run("B", 4), asio::detached);
    io.run();
    ASSERT_EQ(finished.size(), 17u);
    int refused = 0;
    std::size_t b_at = 0;
    for (std::size_t i = 0; i < finished.size(); ++i) {
        if (finished[i] == "A:0") ++refused;  // FairRefusal::subject_limit
        if (finished[i] == "B") b_at = i;
    }
    EXPECT_EQ(refused, 12);
    // Refusals are immediate; then A's first two runs end; B's is the third or fourth run.
    EXPECT_LE(b_at, 12u + 3u) << "B waited behind A's whole queue";
    EXPECT_EQ(adm.running(), 0u);
    EXPECT_EQ(adm.queued(), 0u);
}

TEST(FairAdmission, TimeoutCloseAndDecision) {
    asio::io_context io;
    FairAdmission adm(1, 10, 30ms);
    std::optional<FairResult> held, timed_out, closed, busy;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { held = co_await adm.acquire("A", 1); },
        asio::detached);
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { busy = co_await adm.acquire("A", 1); },
        asio::detached);
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { timed_out = co_await adm.acquire("B", 0); },
        asio::detached);
    io.run();
    ASSERT_TRUE(held && held->permit.valid());
    ASSERT_TRUE(busy && busy->refused);
    EXPECT_EQ(*busy->refused, FairRefusal::subject_limit);
    EXPECT_EQ(busy->decision.exceeded, LimitKind::concurrency);
    EXPECT_EQ(busy->decision.values->limit, 1u);
    EXPECT_EQ(busy->decision.retry_after_s, 1u);
    ASSERT_TRUE(timed_out && timed_out->refused);
    EXPECT_EQ(*timed_out->refused, FairRefusal::queue_timeout);
    EXPECT_EQ(adm.queued(), 0u);
    io.restart();
    FairAdmission slow(1, 10, 10s);
    FairPermit slot;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto r = co_await slow.acquire("A", 0);
            slot = std::move(r.permit);
        },
        asio::detached);
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { closed = co_await slow.acquire("B", 0); },
        asio::detached);
    asio::steady_timer t(io, 20ms);
    t.async_wait([&](auto) { slow.close(); });
    io.run();
    ASSERT_TRUE(closed && closed->refused);
    EXPECT_EQ(*closed->refused, FairRefusal::shutting_down);
    held.reset();  // the permit goes back
    EXPECT_EQ(adm.running(), 0u);
}

}  // namespace
}  // namespace sbx::auth
