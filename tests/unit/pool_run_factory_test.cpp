// ZygotePool and RunFactory over fake zygotes (threads speaking the codec on real socket
// pairs): start, replacement of a dead zygote, the prepared-run stock and its refill, a take
// cancelled while its run is being prepared.
#include <gtest/gtest.h>
#include <poll.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "pool/run_factory.h"
#include "pool/zygote_pool.h"
#include "pool_fake_zygote.h"
#include "pool_fakes.h"

namespace sbx::pool {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::FakeGroup;
using testing::FakeZygoteLauncher;

class FakeGroups final : public RunGroupFactory {
   public:
    sys::Result<std::unique_ptr<RunGroup>> create(const std::string&, const GroupLimits&) override {
        ++created;
        return std::unique_ptr<RunGroup>(std::make_unique<FakeGroup>());
    }
    [[nodiscard]] std::vector<LayerStatus> layers() const override { return {}; }
    int created = 0;
};

// Runs the io_context until `done()` or the time is up.
template <class Pred>
bool run_until(asio::io_context& ctx, Pred done, std::chrono::milliseconds limit = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end) {
        ctx.run_for(10ms);
        if (ctx.stopped()) ctx.restart();
    }
    return done();
}

ZygotePoolOptions lean_only() {
    ZygotePoolOptions o;
    o.full_zygotes = 0;
    o.lean_zygote = true;
    o.ready_timeout = 2000ms;
    o.respawn_delay = 10ms;
    return o;
}

DriverSettings settings() {
    DriverSettings s;
    s.uid_base = 500000;
    s.quotas.uid_count = 8;
    s.setup_timeout = 2000ms;
    return s;
}

TEST(ZygotePool, StartsAndReplacesADeadZygote) {
    asio::io_context ctx;
    FakeZygoteLauncher launcher;
    ZygotePool pool(ctx.get_executor(), launcher, lean_only());
    asio::co_spawn(ctx, pool.start(), asio::detached);
    ASSERT_TRUE(run_until(ctx, [&] { return pool.ready_count() == 1; }));
    ASSERT_TRUE(pool.any_info());
    EXPECT_EQ(pool.any_info()->seccomp_instructions, 7U);  // decoded from the ready message
    launcher.kill_last();
    EXPECT_TRUE(
        run_until(ctx, [&] { return launcher.launches.load() == 2 && pool.ready_count() == 1; }));
    pool.stop();
    ctx.run_for(50ms);
}

struct FactoryFixture {
    asio::io_context ctx;
    FakeZygoteLauncher launcher;
    FakeGroups groups;
    config::Config cfg;
    std::unique_ptr<ZygotePool> pool;
    std::unique_ptr<RunFactory> factory;

    explicit FactoryFixture(unsigned prefork) {
        cfg.prefork_runs = prefork;
        pool = std::make_unique<ZygotePool>(ctx.get_executor(), launcher, lean_only());
        factory = std::make_unique<RunFactory>(ctx.get_executor(), cfg, settings(), *pool, groups,
                                               nullptr);
        asio::co_spawn(ctx, pool->start(), asio::detached);
        run_until(ctx, [&] { return pool->ready_count() == 1; });
    }
    ~FactoryFixture() {
        factory->stop();
        pool->stop();
        ctx.run_for(50ms);
    }
};

TEST(RunFactory, KeepsTheStockAndRefillsAfterTheAnswer) {
    FactoryFixture f(2);
    f.factory->start();
    // PREFORK_RUNS per kind: lean and full stocks (full falls back to the lean zygote).
    ASSERT_TRUE(run_until(f.ctx, [&] { return f.factory->stocked() == 4; }));
    std::optional<sys::Result<PreparedRun>> taken;
    asio::co_spawn(
        f.ctx,
        [&]() -> asio::awaitable<void> {
            taken = co_await f.factory->take(ZygoteKind::lean, false);
        },
        asio::detached);
    ASSERT_TRUE(run_until(f.ctx, [&] { return taken.has_value(); }));
    ASSERT_TRUE(*taken);
    EXPECT_TRUE((*taken)->usable());
    EXPECT_EQ(f.factory->stocked(), 3U);
    f.ctx.run_for(100ms);
    EXPECT_EQ(f.factory->stocked(), 3U);  // not refilled while the taken run runs
    f.factory->run_done(ZygoteKind::lean, false);
    EXPECT_TRUE(run_until(f.ctx, [&] { return f.factory->stocked() == 4; }));
    EXPECT_EQ(f.launcher.runs.load(), 5);
}

TEST(RunFactory, TakeFromAnEmptyStockPreparesNow) {
    FactoryFixture f(0);
    std::optional<sys::Result<PreparedRun>> taken;
    asio::co_spawn(
        f.ctx,
        [&]() -> asio::awaitable<void> {
            taken = co_await f.factory->take(ZygoteKind::full, false);
        },
        asio::detached);
    ASSERT_TRUE(run_until(f.ctx, [&] { return taken.has_value(); }));
    ASSERT_TRUE(*taken);
    EXPECT_EQ(f.launcher.runs.load(), 1);
    EXPECT_EQ(f.groups.created, 1);
}

TEST(RunFactory, CancelDuringPrepareDropsTheRun) {
    FactoryFixture f(0);
    f.launcher.answer_runs = false;  // the run is never ready
    std::optional<sys::Result<PreparedRun>> taken;
    asio::cancellation_signal cancel;
    asio::co_spawn(
        f.ctx,
        [&]() -> asio::awaitable<void> {
            taken = co_await f.factory->take(ZygoteKind::lean, false);
        },
        asio::bind_cancellation_slot(cancel.slot(), [](std::exception_ptr) {}));
    ASSERT_TRUE(run_until(f.ctx, [&] { return f.launcher.runs.load() == 1; }));
    cancel.emit(asio::cancellation_type::terminal);
    f.ctx.run_for(50ms);
    EXPECT_FALSE(taken.has_value() && *taken);  // no run came out of it
    // The server's end of the run socket is closed: the zygote would see EOF and drop the run.
    const auto socks = f.launcher.run_sockets();
    ASSERT_EQ(socks.size(), 1U);
    pollfd p{socks[0], POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 1000), 1);
    char c = 0;
    EXPECT_EQ(::recv(socks[0], &c, 1, MSG_DONTWAIT), 0);  // EOF
}

}  // namespace
}  // namespace sbx::pool
