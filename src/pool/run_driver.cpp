// RunDriver: inputs, go, concurrent output capture, deadline, exit report, collection.
#include "pool/run_driver.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <csignal>

#include "log/log.h"
#include "pool/output_capture.h"
#include "pool/run_verdict.h"
#include "pool/workdir_io.h"

namespace sbx::pool {
namespace asio = boost::asio;
namespace json = boost::json;
using namespace asio::experimental::awaitable_operators;
using sandbox::RunOutcome;
using sandbox::Verdict;
using sys::Step;
using sys::SysError;

namespace {

// Kills the run's processes once: through G's pidfd (pid 1 of the run's pid namespace: the
// kernel then kills the whole namespace) and through the group. Also on every way out of
// execute_run (destructor), unless the run ended by itself.
struct Killer {
    int pidfd = -1;  // owned by the PreparedRun, which outlives the Killer
    RunGroup* group = nullptr;
    bool done = false;
    Killer() = default;
    Killer(const Killer&) = delete;
    Killer& operator=(const Killer&) = delete;
    ~Killer() { (*this)(); }
    void operator()() {
        if (done) return;
        done = true;
        if (pidfd >= 0) ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
        if (group != nullptr) group->kill();
    }
};

// Receives messages until the monitor's "exit" (or EOF); notes "policy" and "error" on the way.
// EOF before "exit": the monitor is gone (killed from outside, or its zygote died) and nobody
// will report G's end, so G is killed now instead of running on, unwatched, to the deadline.
asio::awaitable<void> await_exit(Channel& ch, RunFacts& facts, Killer& killer) {
    for (;;) {
        auto msg = co_await ch.receive();
        if (!msg) {
            if (!is_eof(msg.error())) facts.protocol_error = msg.error();
            killer();
            co_return;
        }
        const auto type = msg->type();
        const auto& b = msg->body;
        if (type == "exit") {
            facts.exited = true;
            if (auto it = b.find("exit_code"); it != b.end() && it->value().is_int64()) {
                facts.exit_code = static_cast<int>(it->value().as_int64());
            }
            if (auto it = b.find("signal"); it != b.end() && it->value().is_int64()) {
                facts.signal = static_cast<int>(it->value().as_int64());
            }
            co_return;
        }
        if (type == "policy") {
            auto it = b.find("message");
            facts.policy_message = it != b.end() && it->value().is_string()
                                       ? std::string(it->value().as_string())
                                       : "Security policy violation";
        } else if (type == "error") {
            facts.setup_error = setup_error_from(b);
        }
    }
}

// The run's clock: at the deadline kill the run (verdict timeout) and keep waiting for the
// monitor; if it still has not reported after the grace period, return: the caller gives up
// (no exit report: internal error, "monitor lost").
asio::awaitable<void> watchdog(std::chrono::seconds timeout, std::chrono::milliseconds grace,
                               RunFacts& facts, Killer& killer) {
    asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    facts.timed_out = true;
    killer();
    timer.expires_after(grace);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
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

asio::awaitable<RunOutcome> execute_run(PreparedRun run, const sandbox::RunRequest& request,
                                        const config::Config& cfg, const DriverSettings& settings) {
    auto ex = co_await asio::this_coro::executor;
    RunFacts facts;
    Killer killer;
    killer.pidfd = run.pidfd.get();
    killer.group = run.group.get();
    const std::uint64_t flood_after = cfg.max_output_bytes * 4 + (1U << 20);
    OutputCapture out_cap(ex, std::move(run.stdout_read), cfg.max_output_bytes, flood_after,
                          [&] { facts.flooded = true; killer(); });
    OutputCapture err_cap(ex, std::move(run.stderr_read), cfg.max_output_bytes, flood_after,
                          [&] { facts.flooded = true; killer(); });

    std::vector<sandbox::InputFile> inputs = request.files;
    inputs.push_back(sandbox::InputFile{"main.py", request.code});
    const Owner owner{settings.owner_host_uid, settings.owner_host_uid};
    if (auto w = write_inputs(run.workdir.get(), inputs, owner); !w) co_return failed_outcome(w.error());
    if (auto go = run.channel->send(json::object{{"type", "go"}}); !go) co_return failed_outcome(go.error());
    const auto started = std::chrono::steady_clock::now();
    co_await ((out_cap.drain() && err_cap.drain() && await_exit(*run.channel, facts, killer)) ||
              watchdog(request.timeout, settings.kill_grace, facts, killer));
    RunOutcome out;
    out.execution_time = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    const auto cs = co_await asio::this_coro::cancellation_state;
    facts.cancelled = cs.cancelled() != asio::cancellation_type::none;
    // Exited: pid 1 is gone, so the kernel has killed the rest of the run. Otherwise (lost
    // monitor, cancelled) kill now; either way nothing of the run runs on past this point.
    if (facts.exited) killer.done = true;
    killer();

    if (run.group) facts.stats = run.group->stats();
    Collected collected = collect_outputs(run.workdir.get(), request.files, {"main.py"},
                                          CollectLimits{cfg.max_output_files, cfg.max_output_files_bytes, 32});
    out.files = std::move(collected.files);
    out.warnings = std::move(collected.warnings);
    out.stdout_text = out_cap.text();
    out.stderr_text = err_cap.text();
    out.stdout_truncated = out_cap.truncated();
    out.stderr_truncated = err_cap.truncated();
    if (out.stdout_truncated || out.stderr_truncated) {
        out.warnings.push_back("output truncated at MAX_OUTPUT_SIZE (" + std::to_string(cfg.max_output_bytes) +
                               " bytes per stream)");
    }
    apply_verdict(out, facts);
    log::debug("run phases", {{"box", run.run_id}, {"run_us", out.execution_time.count()},
                              {"total_us", std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::steady_clock::now() - started).count()}});
    // Everything of the run is dead and collected: removing its cgroup (one rmdir per
    // hierarchy), closing its fds and cutting its network link happen after the response is
    // on its way — a handler queued behind this coroutine's continuation, whose socket write
    // is attempted at once.
    asio::post(ex, [remains = std::move(run)]() mutable { PreparedRun gone = std::move(remains); });
    co_return out;
}

}  // namespace sbx::pool
