// RunDriver: inputs, go, concurrent output capture, deadline, exit report, collection.
#include "pool/run_driver.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <algorithm>
#include <array>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include "log/log.h"
#include "pool/output_capture.h"
#include "pool/run_verdict.h"
#include "pool/workdir_io.h"
#include "sys/pidfd.h"

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
        if (pidfd >= 0) (void)sys::raw_pidfd_send_signal(pidfd, SIGKILL);
        if (group != nullptr) group->kill();
    }
};

// Receives messages until the zygote's "exit" (or EOF); notes "policy" and "error" on the way.
// EOF before "exit": the zygote is gone (killed from outside, or it died) and nobody will
// report G's end, so G is killed now instead of running on, unwatched, to the deadline.
asio::awaitable<void> await_exit(Channel& ch, RunFacts& facts, Killer& killer) {
    for (;;) {
        auto msg = co_await ch.receive();
        if (!msg) {
            // Cancelled: another branch ended the wait (end report, deadline, client gone);
            // the caller kills what must die.
            if (msg.error().err == ECANCELED) co_return;
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

// The end pipe, one word a line: "end N" (the runner's end report, written once the program's
// output is flushed, just before its process exits) and "flushed" (its answer to the
// deadline's flush request: wakes the watchdog). Completes only on a valid end report; on
// anything else (EOF: the program closed the pipe, or ended without one — os._exit, a signal;
// a line that is neither) it waits to be cancelled: the zygote's exit report or the deadline
// decides then.
asio::awaitable<void> await_end(asio::posix::stream_descriptor& sd, RunFacts& facts,
                                asio::steady_timer& flush_wait) {
    constexpr int kMaxFlushed = 4;  // one is asked for; a program writing more gets no more
    std::string got;
    std::array<char, 32> buf{};
    int flushed = 0;
    for (bool bad = false; !bad;) {
        auto [ec, n] = co_await sd.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
        got.append(buf.data(), n);
        for (auto nl = got.find('\n'); nl != std::string::npos && !bad; nl = got.find('\n')) {
            const std::string line = got.substr(0, nl + 1);
            got.erase(0, nl + 1);
            if (line == kFlushedLine && ++flushed <= kMaxFlushed) {
                flush_wait.cancel();
            } else if (auto code = parse_end_report(line)) {
                facts.end_report = code;
                co_return;
            } else {
                bad = true;
            }
        }
        bad = bad || ec || got.size() > 16;
    }
    asio::steady_timer never(co_await asio::this_coro::executor, std::chrono::steady_clock::time_point::max());
    co_await never.async_wait(asio::as_tuple(asio::use_awaitable));
}

// The run's clock: at the deadline ask G to flush (bounded by flush_grace, ended early by its
// "flushed"), kill the run (verdict timeout) and keep waiting for the zygote's exit report; if
// it still has not come after the grace period, return: the caller gives up (no exit report:
// internal error, "run lost").
asio::awaitable<void> watchdog(std::chrono::steady_clock::time_point deadline, const DriverSettings& settings,
                               RunFacts& facts, Killer& killer, asio::steady_timer* flush_wait) {
    asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    facts.timed_out = true;
    // Text the program printed without a newline is still in its stream buffers. G is pid 1 of
    // its namespace: the signal reaches it only if its handler is still installed.
    // (No flush_wait: the runner has already flushed and reported its end.)
    if (flush_wait != nullptr && settings.flush_grace.count() > 0 && killer.pidfd >= 0) {
        flush_wait->expires_after(settings.flush_grace);
        if (sys::raw_pidfd_send_signal(killer.pidfd, flush_signal()) == 0) {
            co_await flush_wait->async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }
    killer();
    timer.expires_after(settings.kill_grace);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// True when G is the only process of the run's group (or none is), besides the run's network
// stack (in the run's group, outside its namespaces: it cannot write to the run's output or
// files).
bool alone(const PreparedRun& run) {
    if (!run.group || run.g_pid == 0) return false;  // cannot tell: wait for the exit report
    const pid_t link = run.link ? run.link->pid() : 0;
    const auto members = run.group->members();
    return std::all_of(members.begin(), members.end(),
                       [&](pid_t p) { return p == run.g_pid || (link > 0 && p == link); });
}

// The state letter of /proc/<pid>/stat ('Z' zombie, 'X' dead), or 0 if it cannot be read.
char proc_state(const std::string& pid) {
    std::ifstream in("/proc/" + pid + "/stat");
    std::string stat;
    std::getline(in, stat);
    const auto paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() ? stat[paren + 2] : '\0';
}

// True if any thread of `pid` has a child that has not exited. Every process of a run descends
// from G, and orphans are reparented to G (pid 1 of the run's namespace): G has a live child
// exactly when another process of the run is alive. A child is on this list as soon as fork
// has made it, unlike cgroup.procs, which it joins a moment later. Unreadable: true.
bool has_live_children(pid_t pid) {
    std::error_code ec;
    const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
    for (const auto& task : std::filesystem::directory_iterator{tasks, ec}) {
        std::ifstream in(task.path() / "children");
        if (!in) return true;
        for (std::string child; in >> child;) {
            const char state = proc_state(child);
            if (state != 'Z' && state != 'X') return true;
        }
    }
    return static_cast<bool>(ec);
}

// After G's end report, with G alone in its group: kills G, then makes sure nothing else of the
// run exists. The kill first: a fork by one of G's threads fails once SIGKILL is pending, so no
// process can appear after the check. A child forked just before it, even one not yet in the
// group when that was read, is G's child (any other process would have had to be in the group
// already, or be the child of one that was).
// True: G's exit (still under way) is all that is left of the run, and the answer can go now.
// False: another process exists; it dies with G (pid 1), whose exit report is then awaited.
bool kill_and_confirm_alone(const PreparedRun& run, Killer& killer) {
    killer.group = nullptr;
    killer();
    if (has_live_children(run.g_pid)) {
        // Read while G's pid could not have been reused: G had not been reaped (its pidfd is
        // not readable). If it has exited meanwhile, so has every process of its namespace.
        pollfd p{run.pidfd.get(), POLLIN, 0};
        return ::poll(&p, 1, 0) == 1;
    }
    return true;
}

// After the response: the run's resources go once G is gone. A run answered from its end
// report may still be exiting (unmapping a large zygote's memory takes milliseconds): wait for
// its pidfd without blocking a thread (bounded), then close its fds and remove its group.
// The network stack, in the run's group, is cut first and waited for the same way, so that
// removing the group does not wait for it.
asio::awaitable<void> retire(PreparedRun run) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer limit(ex, std::chrono::seconds(5));
    auto await_exit = [&](int pidfd) -> asio::awaitable<void> {
        sys::UniqueFd watch{::fcntl(pidfd, F_DUPFD_CLOEXEC, 0)};
        if (!watch) co_return;
        asio::posix::stream_descriptor exited(ex, watch.release());
        co_await (exited.async_wait(asio::posix::stream_descriptor::wait_read,
                                    asio::as_tuple(asio::use_awaitable)) ||
                  limit.async_wait(asio::as_tuple(asio::use_awaitable)));
    };
    if (run.link) {
        sys::UniqueFd link{::fcntl(run.link->pidfd(), F_DUPFD_CLOEXEC, 0)};
        run.link.reset();  // SIGKILL; reaped elsewhere
        if (link) co_await await_exit(link.get());
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
    const Owner owner{run.uid.id(), run.uid.id()};  // uid 1000 of the run, on the host
    if (auto w = write_inputs(run.workdir.get(), inputs, owner); !w) co_return failed_outcome(w.error());
    asio::posix::stream_descriptor end_pipe(ex, run.end_read.release());
    if (auto go = run.channel->send(json::object{{"type", "go"}}); !go) co_return failed_outcome(go.error());
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + request.timeout;
    // The run's end as the zygote reports it: both pipes at EOF and the exit message.
    auto exit_reported = [&] {
        return out_cap.drain() && err_cap.drain() && await_exit(*run.channel, facts, killer);
    };
    asio::steady_timer flush_wait(ex);
    co_await (exit_reported() || await_end(end_pipe, facts, flush_wait) ||
              watchdog(deadline, settings, facts, killer, &flush_wait));
    if (facts.end_report && !facts.exited) {
        // The report is the program's own claim: G is killed (as pid 1 its death ends the run)
        // before the pipes are read, so nothing is added after it.
        const bool killed_after_end = alone(run);
        if (killed_after_end && kill_and_confirm_alone(run, killer)) {
            // The program has ended and flushed; G is exiting and nothing else is left: what
            // the pipes hold is all of its output. G's teardown happens after the response.
            facts.exited = true;
            facts.answered_early = true;
            facts.exit_code = facts.end_report;
            out_cap.take_available();
            err_cap.take_available();
        } else {  // other processes still run: the usual way (they die with pid 1)
            co_await (exit_reported() || watchdog(deadline, settings, facts, killer, nullptr));
            if (killed_after_end && facts.exited && !facts.timed_out) {
                // Killed by us after its end report: the program's status is the reported one.
                facts.exit_code = facts.end_report;
                facts.signal.reset();
            }
        }
    }
    RunOutcome out;
    out.execution_time = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    const auto cs = co_await asio::this_coro::cancellation_state;
    facts.cancelled = cs.cancelled() != asio::cancellation_type::none;
    // Exited: pid 1 is gone, so the kernel has killed the rest of the run (answered early: G
    // was killed above). Otherwise (lost zygote, cancelled) kill now; either way nothing of the
    // run runs on past this point.
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
    if (facts.stats.oom_kills > 0 && out.verdict != Verdict::memory_limit) {
        // The program survived, but the kernel killed some of its processes: say so, or a
        // child that vanished would look like the program's own doing.
        out.warnings.push_back(std::to_string(facts.stats.oom_kills) +
                               " process(es) of the run killed for exceeding MEMORY_LIMIT (" +
                               std::to_string(cfg.memory_limit_bytes >> 20) + " MiB)");
    }
    log::debug("run phases", {{"box", run.run_id}, {"run_us", out.execution_time.count()},
                              {"early", facts.answered_early ? 1 : 0},
                              {"total_us", std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::steady_clock::now() - started).count()}});
    // Everything of the run is collected (and dead, or G alone exiting): removing its cgroup
    // (one rmdir per hierarchy), closing its fds and cutting its network link happen after the
    // response is on its way — queued behind this coroutine's continuation, whose socket write
    // is attempted at once.
    asio::co_spawn(ex, retire(std::move(run)), asio::detached);
    co_return out;
}

}  // namespace sbx::pool
