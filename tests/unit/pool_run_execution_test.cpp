// RunExecution and execute_run against a fake run (a forked child as G, the test as its
// zygote): end records, exit reports, deadline races, zygote death, cancellation, output
// floods, sink backpressure, stdin, interrupt, CPU limit.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <thread>

#include "pool/end_pipe.h"
#include "pool/run_driver.h"
#include "pool/run_execution.h"
#include "pool/run_protocol.h"
#include "pool_fakes.h"

namespace sbx::pool {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;
using sandbox::Verdict;
using testing::FakeGroup;
using testing::FakeSide;
using testing::make_fake_run;

void write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        const auto n = ::write(fd, s.data(), s.size());
        if (n <= 0) return;
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

DriverSettings fast_settings() {
    DriverSettings s;
    s.kill_grace = 200ms;
    s.flush_grace = 50ms;
    return s;
}

ExecutionLimits limits(std::chrono::milliseconds timeout) {
    ExecutionLimits l;
    l.timeout = timeout;
    l.max_output_bytes = 1000;
    l.flood_after = 8000;
    return l;
}

// Runs `f` (a coroutine) on a fresh io_context to completion.
template <class F>
void run_on(asio::io_context& ctx, F f) {
    std::exception_ptr failure;
    asio::co_spawn(ctx, f(), [&](std::exception_ptr e) { failure = e; });
    ctx.run();
    if (failure) std::rethrow_exception(failure);
}

// The message G's zygote would find on the run socket ("go"), or "" on timeout.
std::string next_type(int fd, int ms = 2000) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) != 1) return "";
    auto msg = try_receive(fd, sys::Step::run_protocol);
    return msg && msg->has_value() ? std::string((*msg)->type()) : "";
}

struct Fixture {
    asio::io_context ctx;
    FakeSide side;
    FakeGroup* group = nullptr;
    PreparedRun run;
    DriverSettings settings = fast_settings();

    explicit Fixture(bool with_stdin = false, std::function<void(FakeSide&)> body = {}) {
        auto g = std::make_unique<FakeGroup>();
        group = g.get();
        run = make_fake_run(ctx.get_executor(), side, std::move(g), with_stdin, std::move(body));
        group->member_pids = {run.g_pid};
    }
};

TEST(RunExecution, StartWritesInputsAndSendsGo) {
    Fixture f;
    RunExecution ex(f.ctx.get_executor(), f.run, f.settings, limits(1s));
    ASSERT_TRUE(ex.start({{"main.py", "print(1)"}, {"data/a.txt", "A"}}));
    EXPECT_EQ(next_type(f.side.run_sock.get()), "go");
    EXPECT_TRUE(std::filesystem::exists(f.side.workdir / "data/a.txt"));
    EXPECT_TRUE(f.side.g_alive());
}

TEST(RunExecution, EndRecordAnswersEarlyAndKillsG) {
    Fixture f;
    sandbox::RunOutcome out;
    run_on(f.ctx, [&]() -> asio::awaitable<void> {
        RunExecution ex(f.ctx.get_executor(), f.run, f.settings, limits(5s));
        EXPECT_TRUE(ex.start({{"main.py", ""}}));
        write_all(f.side.out_w.get(), "hi\n");
        write_all(f.side.end_w.get(), encode_end_status(3));
        co_await ex.await_end();
        out = ex.outcome({}, {});
        EXPECT_TRUE(ex.facts().answered_early);
    });
    EXPECT_EQ(out.verdict, Verdict::nonzero_exit);
    EXPECT_EQ(out.exit_code, 3);
    EXPECT_EQ(out.stdout_text, "hi\n");
    EXPECT_EQ(f.group->kills.load(), 0);  // G only: the group goes when the run is retired
    EXPECT_TRUE(WIFSIGNALED(f.side.reap()));
}

TEST(RunExecution, EndRecordWithAnotherProcessWaitsForTheExitReport) {
    // G forges an end record, then exits 7 on its own; another process is in its group.
    Fixture f(false, [](FakeSide&) {
        ::usleep(200 * 1000);
        ::_exit(7);
    });
    f.group->member_pids.push_back(1);  // someone else in the group: the record is not enough
    f.side.start_zygote();
    sandbox::RunOutcome out;
    run_on(f.ctx, [&]() -> asio::awaitable<void> {
        RunExecution ex(f.ctx.get_executor(), f.run, f.settings, limits(5s));
        EXPECT_TRUE(ex.start({{"main.py", ""}}));
        write_all(f.side.end_w.get(), encode_end_status(0));
        co_await ex.await_end();
        out = ex.outcome({}, {});
        EXPECT_FALSE(ex.facts().answered_early);
        EXPECT_FALSE(ex.facts().protocol_error) << ex.facts().protocol_error->render();
        EXPECT_TRUE(ex.facts().exited);
    });
    // Not killed by the server: the real exit decides, not the claim.
    EXPECT_EQ(out.verdict, Verdict::nonzero_exit);
    EXPECT_EQ(out.exit_code, 7);
}

TEST(RunExecution, ExitReportAloneEndsTheRunAndGivesCpuWithoutGroup) {
    Fixture f;
    f.run.group.reset();
    f.group = nullptr;
    sandbox::RunOutcome out;
    run_on(f.ctx, [&]() -> asio::awaitable<void> {
        RunExecution ex(f.ctx.get_executor(), f.run, f.settings, limits(5s));
        EXPECT_TRUE(ex.start({{"main.py", ""}}));
        write_all(f.side.err_w.get(), "oops\n");
        ::kill(f.side.g, SIGKILL);
        f.side.reap();
        f.side.close_outputs();
        EXPECT_TRUE(
            send_message(f.side.run_sock.get(), encode(ExitMessage{2, std::nullopt, 1.25})));
        co_await ex.await_end();
        out = ex.outcome({}, {});
    });
    EXPECT_EQ(out.verdict, Verdict::nonzero_exit);
    EXPECT_EQ(out.exit_code, 2);
    EXPECT_EQ(out.stderr_text, "oops\n");
    ASSERT_TRUE(out.cpu_time_s);  // no group: the zygote's figure
    EXPECT_DOUBLE_EQ(*out.cpu_time_s, 1.25);
}

TEST(RunExecution, DeadlineAsksForFlushThenKills) {
    // G answers the flush signal with its last text and a "flushed" record.
    static int end_fd = -1, out_fd = -1;
    Fixture f(false, [](FakeSide& s) {
        end_fd = s.end_w.get();
        out_fd = s.out_w.get();
        std::signal(SIGRTMAX, [](int) {
            static const std::string rec = encode_end_record(kFlushedKind, "");
            (void)!::write(out_fd, "partial", 7);
            (void)!::write(end_fd, rec.data(), rec.size());
        });
    });
    std::this_thread::sleep_for(50ms);  // the handler is installed
    sandbox::RunOutcome out;
    run_on(f.ctx, [&]() -> asio::awaitable<void> {
        RunExecution ex(f.ctx.get_executor(), f.run, f.settings, limits(100ms));
        EXPECT_TRUE(ex.start({{"main.py", ""}}));
        co_await ex.await_end();
        out = ex.outcome({}, {});
    });
    EXPECT_EQ(out.verdict, Verdict::timeout);
    EXPECT_EQ(out.stdout_text, "partial");
    EXPECT_GE(f.group->kills.load(), 1);
    EXPECT_TRUE(WIFSIGNALED(f.side.reap()));
}

TEST(RunExecution, EndRecordBeforeTheDeadlineWins) {
    Fixture f;
    sandbox::RunOutcome out;
    run_on(f.ctx, [&]() -> asio::awaitable<void> {
        RunExecution ex(f.ctx.get_executor(), f.run, f.settings, limits(300ms));
        EXPECT_TRUE(ex.start({{"main.py", ""}}));
        write_all(f.side.end_w.get(), encode_end_status(0));
        co_await ex.await_end();
        out = ex.outcome({}, {});
    });
    EXPECT_EQ(out.verdict, Verdict::ok);
    EXPECT_TRUE(WIFSIGNALED(f.side.reap()));  // killed once its record was in
}

TEST(RunExecution, EndRecordAfterTheDeadlineIsTooLate) {
    Fixture f;
    sandbox::RunOutcome out;
    std::thread late;
    run_on(f.ctx, [&]() -> asio::awaitable<void> {
        RunExecution ex(f.ctx.get_executor(), f.run, f.settings, limits(50ms));
        EXPECT_TRUE(ex.start({{"main.py", ""}}));
        late = std::thread([&] {
            std::this_thread::sleep_for(150ms);  // after the flush wait (50 ms): G is killed
            write_all(f.side.end_w.get(), encode_end_status(0));
        });
        co_await ex.await_end();
        out = ex.outcome({}, {});
    });
    late.join();
    EXPECT_EQ(out.verdict, Verdict::timeout);
}

TEST(RunExecution, ZygoteDeathMidRunKillsGAndIsInternal) {
    Fixture f;
    sandbox::RunOutcome out;
    run_on(f.ctx, [&]() -> asio::awaitable<void> {
        RunExecution ex(f.ctx.get_executor(), f.run, f.settings, limits(5s));
        EXPECT_TRUE(ex.start({{"main.py", ""}}));
        EXPECT_EQ(next_type(f.side.run_sock.get()), "go");
        f.side.run_sock.reset();  // the zygote is gone: nobody will report G's end
        f.side.close_outputs();
        co_await ex.await_end();
        out = ex.outcome({}, {});
    });
    EXPECT_EQ(out.verdict, Verdict::internal_error);
    EXPECT_TRUE(WIFSIGNALED(f.side.reap()));
}

TEST(RunExecution, CancelledAwaitKillsTheRun) {
    Fixture f;
    sandbox::RunOutcome out;
    asio::cancellation_signal cancel;
    asio::steady_timer later(f.ctx, 50ms);
    later.async_wait([&](auto) { cancel.emit(asio::cancellation_type::terminal); });
    asio::co_spawn(
        f.ctx,
        [&]() -> asio::awaitable<void> {
            RunExecution ex(f.ctx.get_executor(), f.run, f.settings, limits(5s));
            EXPECT_TRUE(ex.start({{"main.py", ""}}));
            co_await ex.await_end();
            out = ex.outcome({}, {});
        },
        asio::bind_cancellation_slot(cancel.slot(), [](std::exception_ptr) {}));
    f.ctx.run();
    EXPECT_EQ(out.verdict, Verdict::internal_error);
    ASSERT_TRUE(out.failure);
    EXPECT_EQ(out.failure->err, ECANCELED);
    EXPECT_TRUE(WIFSIGNALED(f.side.reap()));
}

TEST(RunExecution, OutputFloodKillsAndTruncates) {
    Fixture f;
    sandbox::RunOutcome out;
    std::thread writer;
    run_on(f.ctx, [&]() -> asio::awaitable<void> {
        RunExecution ex(f.ctx.get_executor(), f.run, f.settings, limits(5s));
        EXPECT_TRUE(ex.start({{"main.py", ""}}));
        const int fd = ::dup(f.side.out_w.get());
        f.side.start_zygote();  // reports G's end once the flood has killed it
        writer = std::thread([fd] {
            const std::string block(4096, 'x');
            for (int i = 0; i < 100; ++i) write_all(fd, block);  // 400 KB, far past 8000
            ::close(fd);
        });
        co_await ex.await_end();
        out = ex.outcome({}, OutcomeLimits{{}, VerdictLimits{1000, 0}});
    });
    writer.join();  // the capture read to EOF: the writer was never left blocked
    EXPECT_EQ(out.verdict, Verdict::output_limit);
    EXPECT_EQ(out.stdout_text.size(), 1000U);
    EXPECT_TRUE(out.stdout_truncated);
    ASSERT_FALSE(out.warnings.empty());
    EXPECT_NE(out.warnings.back().find("MAX_OUTPUT_SIZE (1000"), std::string::npos);
}

// A sink that holds the first chunk until released.
class GatedSink final : public OutputSink {
   public:
    explicit GatedSink(asio::io_context& ctx)
        : gate_(ctx, std::chrono::steady_clock::time_point::max()) {}
    asio::awaitable<void> write(OutputStream stream, std::string_view chunk) override {
        got += chunk;
        streams.push_back(stream);
        if (!opened) co_await gate_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    void open() {
        opened = true;
        gate_.cancel();
    }
    std::string got;
    std::vector<OutputStream> streams;
    bool opened = false;

   private:
    asio::steady_timer gate_;
};

TEST(RunExecution, SlowSinkHoldsTheWriterBack) {
    Fixture f;
    GatedSink sink(f.ctx);
    sandbox::RunOutcome out;
    std::size_t written_while_held = 0;
    run_on(f.ctx, [&]() -> asio::awaitable<void> {
        auto l = limits(5s);
        l.flood_after = 1ULL << 30;
        RunExecution ex(f.ctx.get_executor(), f.run, f.settings, l, &sink);
        EXPECT_TRUE(ex.start({{"main.py", ""}}));
        write_all(f.side.out_w.get(), "first");
        asio::steady_timer t(f.ctx, 50ms);
        auto check = [&]() -> asio::awaitable<void> {
            co_await t.async_wait(asio::use_awaitable);  // the sink now holds "first"
            EXPECT_EQ(sink.got, "first");
            ::fcntl(f.side.out_w.get(), F_SETFL, O_NONBLOCK);
            const std::string block(4096, 'y');
            for (;;) {  // fill the pipe: nobody drains it while the sink waits
                const auto n = ::write(f.side.out_w.get(), block.data(), block.size());
                if (n <= 0) break;
                written_while_held += static_cast<std::size_t>(n);
            }
            EXPECT_EQ(errno, EAGAIN);
            EXPECT_EQ(sink.got, "first");  // nothing more read while the sink holds
            sink.open();
            write_all(f.side.end_w.get(), encode_end_status(0));
        };
        asio::co_spawn(f.ctx, check(), asio::detached);
        co_await ex.await_end();
        out = ex.outcome({}, {});
    });
    EXPECT_GT(written_while_held, 0U);
    EXPECT_EQ(sink.got.size(), 5 + written_while_held);  // then everything, in order
    EXPECT_EQ(out.verdict, Verdict::ok);
    EXPECT_EQ(out.stdout_text, sink.got.substr(0, 1000));
}

TEST(RunExecution, StdinReachesTheProgramAndClosesToEof) {
    Fixture f(true);
    run_on(f.ctx, [&]() -> asio::awaitable<void> {
        RunExecution ex(f.ctx.get_executor(), f.run, f.settings, limits(5s));
        EXPECT_TRUE(ex.start({{"main.py", ""}}, /*keep_stdin=*/true));
        EXPECT_TRUE(co_await ex.write_stdin("line 1\n"));
        ex.close_stdin();
        EXPECT_FALSE(co_await ex.write_stdin("late"));
        ex.kill();
    });
    std::string got(64, '\0');
    const auto n = ::read(f.side.stdin_r.get(), got.data(), got.size());
    ASSERT_EQ(n, 7);
    got.resize(7);
    EXPECT_EQ(got, "line 1\n");
    EXPECT_EQ(::read(f.side.stdin_r.get(), got.data(), got.size()), 0);  // EOF
}

TEST(RunExecution, WithoutKeepStdinTheProgramSeesEofAtOnce) {
    Fixture f(true);
    RunExecution ex(f.ctx.get_executor(), f.run, f.settings, limits(5s));
    ASSERT_TRUE(ex.start({{"main.py", ""}}));
    char c = 0;
    EXPECT_EQ(::read(f.side.stdin_r.get(), &c, 1), 0);
}

TEST(RunExecution, InterruptIsSigintToG) {
    static int end_fd = -1;
    Fixture f(false, [](FakeSide& s) {
        end_fd = s.end_w.get();
        std::signal(SIGINT, [](int) {
            static const std::string rec = encode_end_status(130);
            (void)!::write(end_fd, rec.data(), rec.size());
        });
    });
    std::this_thread::sleep_for(50ms);
    sandbox::RunOutcome out;
    run_on(f.ctx, [&]() -> asio::awaitable<void> {
        RunExecution ex(f.ctx.get_executor(), f.run, f.settings, limits(5s));
        EXPECT_TRUE(ex.start({{"main.py", ""}}));
        ex.interrupt();
        co_await ex.await_end();
        out = ex.outcome({}, {});
    });
    EXPECT_EQ(out.exit_code, 130);
    EXPECT_EQ(out.verdict, Verdict::nonzero_exit);
}

TEST(RunExecution, CpuLimitFromTheGroupKills) {
    Fixture f;
    f.group->stats_now.cpu_time_s = 3.0;
    f.side.start_zygote();
    sandbox::RunOutcome out;
    run_on(f.ctx, [&]() -> asio::awaitable<void> {
        auto l = limits(5s);
        l.cpu_seconds = 2.0;
        l.cpu_check_interval = 10ms;
        RunExecution ex(f.ctx.get_executor(), f.run, f.settings, l);
        EXPECT_TRUE(ex.start({{"main.py", ""}}));
        co_await ex.await_end();
        out = ex.outcome({}, {});
    });
    EXPECT_EQ(out.verdict, Verdict::timeout);
    EXPECT_EQ(out.signal, SIGKILL);
    ASSERT_FALSE(out.warnings.empty());
    EXPECT_EQ(out.warnings.back(), "CPU time limit reached");
}

TEST(RunDriver, ExecuteRunCollectsChangedFiles) {
    Fixture f;
    config::Config cfg;
    sandbox::RunRequest req;
    req.code = "print(1)";
    req.timeout = std::chrono::seconds(5);
    req.files = {{"in.txt", "same"}};
    sandbox::RunOutcome out;
    run_on(f.ctx, [&]() -> asio::awaitable<void> {
        auto body = [&]() -> asio::awaitable<void> {
            asio::steady_timer t(f.ctx, 30ms);
            co_await t.async_wait(asio::use_awaitable);
            std::FILE* file = std::fopen((f.side.workdir / "out.txt").c_str(), "w");
            std::fputs("new", file);
            std::fclose(file);
            write_all(f.side.end_w.get(), encode_end_status(0));
        };
        asio::co_spawn(f.ctx, body(), asio::detached);
        out = co_await execute_run(std::move(f.run), req, cfg, f.settings);
    });
    EXPECT_EQ(out.verdict, Verdict::ok);
    ASSERT_EQ(out.files.size(), 1U);  // main.py and the unchanged input are not returned
    EXPECT_EQ(out.files[0].name, "out.txt");
    EXPECT_EQ(out.files[0].content, "new");
}

}  // namespace
}  // namespace sbx::pool
