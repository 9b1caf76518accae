// RunExecution: inputs and go, concurrent output capture, end record, exit report, deadline,
// CPU limit, collection.
#include "pool/run_execution.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <csignal>

#include "pool/run_liveness.h"
#include "pool/run_protocol.h"
#include "sys/pidfd.h"

namespace sbx::pool {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using sandbox::RunOutcome;
using sys::Step;
using sys::SysError;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr int kMaxFlushed = 4;  // one is asked for; a program writing more gets no more
}  // namespace

RunExecution::RunExecution(const asio::any_io_executor& ex, PreparedRun& run,
                           const DriverSettings& settings, const ExecutionLimits& limits,
                           OutputSink* sink)
    : ex_(ex),
      run_(run),
      settings_(settings),
      limits_(limits),
      out_(
          ex, run.stdout_read.get(), limits.max_output_bytes, limits.flood_after,
          [this] { on_flood(); }, sink, OutputStream::out),
      err_(
          ex, run.stderr_read.get(), limits.max_output_bytes, limits.flood_after,
          [this] { on_flood(); }, sink, OutputStream::err),
      end_pipe_(ex, run.end_read.get()),
      flush_wait_(ex) {
    if (run.stdin_write) stdin_.emplace(ex, run.stdin_write.get());
}

RunExecution::~RunExecution() {
    if (!killed_) kill();
    boost::system::error_code ec;
    end_pipe_.cancel(ec);
    (void)end_pipe_.release();  // the run's fds are the run's to close
    if (stdin_) (void)stdin_->release();
}

void RunExecution::on_flood() {
    facts_.flooded = true;
    kill();
}

void RunExecution::kill() {
    if (killed_) return;
    killed_ = true;
    if (run_.pidfd) (void)sys::raw_pidfd_send_signal(run_.pidfd.get(), SIGKILL);
    if (run_.group) run_.group->kill();
}

void RunExecution::interrupt() {
    if (!killed_ && run_.pidfd) (void)sys::raw_pidfd_send_signal(run_.pidfd.get(), SIGINT);
}

void RunExecution::close_stdin() {
    if (!stdin_) return;
    (void)stdin_->release();
    stdin_.reset();
    run_.stdin_write.reset();  // EOF for the program
}

asio::awaitable<sys::Result<void>> RunExecution::write_stdin(std::string_view bytes) {
    if (!stdin_) co_return SysError{Step::write, EPIPE, "stdin closed"};
    auto [ec, n] =
        co_await asio::async_write(*stdin_, asio::buffer(bytes.data(), bytes.size()), kTuple);
    if (ec) co_return SysError{Step::write, ec.value(), "stdin"};
    co_return sys::Result<void>{};
}

sys::Result<void> RunExecution::start(const std::vector<sandbox::InputFile>& inputs,
                                      bool keep_stdin) {
    const Owner owner{run_.uid.id(), run_.uid.id()};  // uid 1000 of the run, on the host
    SBX_TRY_VOID(write_inputs(run_.workdir.get(), inputs, owner));
    if (!keep_stdin) close_stdin();
    SBX_TRY_VOID(run_.channel->send(encode(GoMessage{})));
    started_ = std::chrono::steady_clock::now();
    deadline_ = started_ + limits_.timeout;
    return {};
}

// Receives messages until the zygote's "exit" (or EOF); notes "policy" and "error" on the way.
// EOF before "exit": the zygote is gone (killed from outside, or it died) and nobody will
// report G's end, so G is killed now instead of running on, unwatched, to the deadline.
asio::awaitable<void> RunExecution::await_exit_report() {
    for (;;) {
        auto msg = co_await run_.channel->receive();
        if (!msg) {
            // Cancelled: another branch ended the wait (end record, deadline, client gone);
            // the caller kills what must die.
            if (msg.error().err == ECANCELED) co_return;
            if (!is_eof(msg.error())) facts_.protocol_error = msg.error();
            kill();
            co_return;
        }
        auto decoded = decode_run_event(*msg);
        if (auto* exit = std::get_if<ExitMessage>(&decoded)) {
            facts_.exited = true;
            facts_.exit_code = exit->exit_code;
            facts_.signal = exit->signal;
            facts_.reported_cpu_time_s = exit->cpu_time_s;
            co_return;
        }
        if (auto* policy = std::get_if<PolicyMessage>(&decoded)) {
            facts_.policy_message = policy->message;
        } else if (auto* error = std::get_if<SysError>(&decoded)) {
            facts_.setup_error = *error;
        }
    }
}

// The end pipe: completes on a valid "end" record. "flushed" wakes the watchdog; other kinds
// are passed over. On EOF (the program closed the pipe, or ended without a record: os._exit,
// a signal) or garbage it waits to be cancelled: the exit report or the deadline decides.
asio::awaitable<void> RunExecution::read_end_pipe() {
    std::array<char, 512> buf{};
    int flushed = 0;
    for (;;) {
        auto [ec, n] = co_await end_pipe_.async_read_some(asio::buffer(buf), kTuple);
        end_decoder_.feed(std::string_view(buf.data(), n));
        for (auto& record : end_decoder_.take()) {
            if (record.kind == kFlushedKind && ++flushed <= kMaxFlushed) {
                flush_wait_.cancel();
            } else if (record.kind == kEndKind) {
                facts_.end_report = decode_end_status(record.payload);
                if (facts_.end_report) co_return;
            }
        }
        if (ec || end_decoder_.spoiled()) break;
    }
    asio::steady_timer never(ex_, std::chrono::steady_clock::time_point::max());
    co_await never.async_wait(kTuple);
}

// The run's clock: at the deadline ask G to flush (bounded by flush_grace, ended early by its
// "flushed"), kill the run (verdict timeout) and keep waiting for the zygote's exit report; if
// it still has not come after the grace period, return: no exit report, "run lost".
asio::awaitable<void> RunExecution::watchdog(bool flush_first) {
    asio::steady_timer timer(ex_, deadline_);
    auto [ec] = co_await timer.async_wait(kTuple);
    if (ec) co_return;
    facts_.timed_out = true;
    // Text printed without a newline is still in the program's stream buffers. G is pid 1 of
    // its namespace: the signal reaches it only if its handler is still installed. (Not after
    // an end record: the runner has flushed already.)
    if (flush_first && settings_.flush_grace.count() > 0 && run_.pidfd && !killed_) {
        flush_wait_.expires_after(settings_.flush_grace);
        if (sys::raw_pidfd_send_signal(run_.pidfd.get(), flush_signal()) == 0) {
            co_await flush_wait_.async_wait(kTuple);
        }
    }
    kill();
    timer.expires_after(settings_.kill_grace);
    co_await timer.async_wait(kTuple);
}

// CPU time of the run's group, polled: past the limit the run is killed.
asio::awaitable<void> RunExecution::watch_cpu() {
    asio::steady_timer timer(ex_);
    for (;;) {
        timer.expires_after(limits_.cpu_check_interval);
        auto [ec] = co_await timer.async_wait(kTuple);
        if (ec) co_return;
        const auto cpu = run_.group->stats().cpu_time_s;
        if (cpu && *cpu >= *limits_.cpu_seconds) {
            facts_.cpu_limited = true;
            kill();
            break;
        }
    }
    asio::steady_timer never(ex_, std::chrono::steady_clock::time_point::max());
    co_await never.async_wait(kTuple);
}

// The run's end as the zygote reports it (both pipes at EOF and the exit message), or the
// deadline's kill and grace.
asio::awaitable<void> RunExecution::until_exit_or_deadline(bool flush_first) {
    co_await ((out_.drain() && err_.drain() && await_exit_report()) || watchdog(flush_first));
}

asio::awaitable<void> RunExecution::first_end() {
    auto reported = [this] { return out_.drain() && err_.drain() && await_exit_report(); };
    if (limits_.cpu_seconds && run_.group) {
        co_await (reported() || read_end_pipe() || watchdog(true) || watch_cpu());
    } else {
        co_await (reported() || read_end_pipe() || watchdog(true));
    }
}

// After a valid end record without an exit report. The record is the program's own claim: G
// is killed (as pid 1 its death ends the run) before the pipes are read, so nothing is added
// after it.
asio::awaitable<void> RunExecution::after_end_record() {
    const bool killed_after_end = alone_in_group(run_);
    if (killed_after_end) {
        // G only: the group (and the network stack in it) goes when the run is retired.
        killed_ = true;
        if (run_.pidfd) (void)sys::raw_pidfd_send_signal(run_.pidfd.get(), SIGKILL);
    }
    if (killed_after_end && confirm_alone_after_kill(run_)) {
        // The program has ended and flushed; G is exiting and nothing else is left: what the
        // pipes hold is all of its output. G's teardown happens after the response.
        facts_.exited = true;
        facts_.answered_early = true;
        facts_.exit_code = facts_.end_report;
        co_await out_.take_available();
        co_await err_.take_available();
        co_return;
    }
    co_await until_exit_or_deadline(false);  // other processes still run: they die with pid 1
    if (killed_after_end && facts_.exited && !facts_.timed_out) {
        // Killed by us after its end record: the program's status is the reported one.
        facts_.exit_code = facts_.end_report;
        facts_.signal.reset();
    }
}

asio::awaitable<void> RunExecution::await_end() {
    co_await first_end();
    if (facts_.end_report && !facts_.exited) co_await after_end_record();
    facts_.execution_time = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started_);
    const auto cs = co_await asio::this_coro::cancellation_state;
    facts_.cancelled = cs.cancelled() != asio::cancellation_type::none;
    // Exited: pid 1 is gone, so the kernel has killed the rest of the run (answered early: G
    // was killed above). Otherwise (lost zygote, cancelled) kill now; either way nothing of
    // the run runs on past this point.
    if (facts_.exited) killed_ = true;
    kill();
    if (run_.group) facts_.stats = run_.group->stats();
}

RunOutcome RunExecution::outcome(const std::vector<sandbox::InputFile>& unchanged,
                                 const OutcomeLimits& limits) {
    RunOutcome out;
    out.execution_time = facts_.execution_time;
    Collected collected =
        collect_outputs(run_.workdir.get(), unchanged, {"main.py"}, limits.collect);
    out.files = std::move(collected.files);
    out.warnings = std::move(collected.warnings);
    out.stdout_text = out_.text();
    out.stderr_text = err_.text();
    out.stdout_truncated = out_.truncated();
    out.stderr_truncated = err_.truncated();
    apply_verdict(out, facts_, limits.verdict);
    return out;
}

}  // namespace sbx::pool
