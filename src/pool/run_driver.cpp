// RunDriver: the one-shot path — a RunExecution from start to outcome, then the run retired.
#include "pool/run_driver.h"

#include <fcntl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "log/log.h"
#include "pool/run_execution.h"
#include "sys/fd_util.h"

namespace sbx::pool {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using sandbox::RunOutcome;
using sandbox::Verdict;
using sys::Step;
using sys::SysError;

namespace {

// After the response: the run's resources go once G is gone. A run answered from its end
// record may still be exiting (unmapping a large zygote's memory takes milliseconds): wait for
// its pidfd without blocking a thread (bounded), then close its fds and remove its group.
// The network stack, in the run's group, is cut first and waited for the same way, so that
// removing the group does not wait for it.
asio::awaitable<void> retire(PreparedRun run) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer limit(ex, std::chrono::seconds(5));
    auto await_exit = [&](int pidfd) -> asio::awaitable<void> {
        auto watch = sys::dup_cloexec(pidfd);
        if (!watch) co_return;
        asio::posix::stream_descriptor exited(ex, watch->release());
        co_await (exited.async_wait(asio::posix::stream_descriptor::wait_read,
                                    asio::as_tuple(asio::use_awaitable)) ||
                  limit.async_wait(asio::as_tuple(asio::use_awaitable)));
    };
    if (run.link) {
        auto link = sys::dup_cloexec(run.link->pidfd());
        run.link.reset();  // SIGKILL; reaped elsewhere
        if (link) co_await await_exit(link->get());
    }
    if (run.pidfd) co_await await_exit(run.pidfd.get());
    // `run` goes here: SIGKILL to G if still alive, fds closed, group removed.
}

}  // namespace

RunOutcome failed_outcome(const SysError& e) {
    RunOutcome out;
    // Failures inside G name their own step; lost processes and protocol errors are ours.
    const bool ours = e.step == Step::run_protocol || e.step == Step::zygote_protocol ||
                      e.step == Step::sendmsg || e.step == Step::zygote_start;
    out.verdict = ours ? Verdict::internal_error : Verdict::setup_failed;
    out.failure = e;
    return out;
}

ExecutionLimits execution_limits(const sandbox::RunRequest& request, const config::Config& cfg) {
    ExecutionLimits limits;
    limits.timeout = request.timeout;
    limits.max_output_bytes = cfg.max_output_bytes;
    limits.flood_after = cfg.max_output_bytes * 4 + (1U << 20);
    return limits;
}

OutcomeLimits outcome_limits(const config::Config& cfg) {
    return OutcomeLimits{CollectLimits{cfg.max_output_files, cfg.max_output_files_bytes, 32},
                         VerdictLimits{cfg.max_output_bytes, cfg.memory_limit_bytes}};
}

asio::awaitable<RunOutcome> execute_run(PreparedRun run, const sandbox::RunRequest& request,
                                        const config::Config& cfg, const DriverSettings& settings) {
    auto ex = co_await asio::this_coro::executor;
    RunOutcome out;
    {
        RunExecution execution(ex, run, settings, execution_limits(request, cfg));
        std::vector<sandbox::InputFile> inputs = request.files;
        inputs.push_back(sandbox::InputFile{"main.py", request.code});
        if (auto started = execution.start(inputs); !started) {
            co_return failed_outcome(started.error());
        }
        co_await execution.await_end();
        out = execution.outcome(request.files, outcome_limits(cfg));
        log::debug("run phases", {{"box", run.run_id},
                                  {"run_us", out.execution_time.count()},
                                  {"early", execution.facts().answered_early ? 1 : 0}});
    }
    // Everything of the run is collected (and dead, or G alone exiting): removing its cgroup
    // (one rmdir per hierarchy), closing its fds and cutting its network link happen after the
    // response is on its way — queued behind this coroutine's continuation, whose socket write
    // is attempted at once.
    asio::co_spawn(ex, retire(std::move(run)), asio::detached);
    co_return out;
}

}  // namespace sbx::pool
