// RunDriver: fork request, readiness, inputs, go, output capture, deadline, exit, collection.
#include "pool/run_driver.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <csignal>

#include "log/log.h"
#include "pool/channel.h"
#include "pool/output_capture.h"
#include "pool/run_verdict.h"
#include "pool/workdir_io.h"

namespace sbx::pool {
namespace asio = boost::asio;
namespace json = boost::json;
using namespace asio::experimental::awaitable_operators;
using sandbox::RunOutcome;
using sandbox::Verdict;
using sys::Result;
using sys::Step;
using sys::SysError;
using sys::UniqueFd;

namespace {

Result<std::pair<UniqueFd, UniqueFd>> make_pipe() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return sys::errno_error(Step::pipe);
    return std::pair{UniqueFd{p[0]}, UniqueFd{p[1]}};
}

json::object run_message(const std::string& run_id, const config::Config& cfg,
                         const DriverSettings& s, bool has_memory_group, std::size_t cgroup_fds,
                         bool network) {
    json::array fds{"run", "stdout", "stderr"};
    for (std::size_t i = 0; i < cgroup_fds; ++i) fds.emplace_back("cgroup");
    return json::object{
        {"type", "run"},
        {"id", run_id},
        {"uid", s.sandbox_uid},
        {"gid", s.sandbox_uid},
        {"workdir_bytes", cfg.workdir_size_bytes},
        {"workdir_inodes", cfg.workdir_max_inodes},
        {"tmp_bytes", cfg.tmp_size_bytes},
        {"nofile", cfg.nofile_limit},
        {"fsize", cfg.workdir_size_bytes},
        // Without a memory cgroup, RLIMIT_AS stands in: it counts address space, and a
        // pre-imported zygote already maps ~250 MB, hence the allowance on top of the limit.
        {"as_bytes", has_memory_group ? 0 : cfg.memory_limit_bytes + (1ULL << 30)},
        {"policy", config::to_string(cfg.code_policy)},
        {"network", network},
        {"fds", std::move(fds)},
    };
}

// Kills the run's processes once: through G's pidfd (pid 1 of the run's pid namespace: the
// kernel then kills the whole namespace) and through the group.
struct Killer {
    UniqueFd pidfd;  // G's pidfd once known: owned here so it outlives every kill
    RunGroup* group = nullptr;
    bool done = false;
    Killer() = default;
    Killer(const Killer&) = delete;
    Killer& operator=(const Killer&) = delete;
    ~Killer() { (*this)(); }  // whatever path leaves drive_run, nothing of the run runs on
    void operator()() {
        if (done) return;
        done = true;
        if (pidfd) ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
        if (group != nullptr) group->kill();
    }
};

// Receives messages until the monitor's "exit" (or EOF); notes "policy" and "error" on the way.
asio::awaitable<void> await_exit(Channel& ch, RunFacts& facts) {
    for (;;) {
        auto msg = co_await ch.receive();
        if (!msg) {
            if (!is_eof(msg.error())) facts.protocol_error = msg.error();
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
// monitor; if it still has not reported after the grace period, return (the caller gives up).
asio::awaitable<void> watchdog(std::chrono::seconds timeout, std::chrono::milliseconds grace,
                               RunFacts& facts, Killer& killer) {
    asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    facts.timed_out = true;
    killer();
    timer.expires_after(grace);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    facts.monitor_lost = true;
}

// Waits for G's "ready" (pidfd + work-dir fd), or a set-up error, within the timeout.
asio::awaitable<Result<Message>> await_ready(Channel& ch, std::chrono::milliseconds timeout) {
    asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
    auto which = co_await (ch.receive() || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (which.index() == 1) co_return SysError{Step::run_protocol, ETIMEDOUT, "no ready message"};
    auto msg = std::move(std::get<0>(which));
    if (!msg) co_return msg.error();
    if (msg->type() == "error") co_return setup_error_from(msg->body);
    if (msg->type() != "ready" || msg->fds.size() != 2) {
        co_return SysError{Step::run_protocol, EPROTO, "unexpected " + std::string(msg->type())};
    }
    co_return std::move(*msg);
}

}  // namespace

asio::awaitable<RunOutcome> drive_run(const sandbox::RunRequest& request, const std::string& run_id,
                                      Zygote& zygote, RunGroup* group, const config::Config& cfg,
                                      const DriverSettings& settings) {
    auto ex = co_await asio::this_coro::executor;
    RunOutcome out;
    auto failed = [&](Verdict v, SysError e) {
        out.verdict = v;
        out.failure = std::move(e);
        return std::move(out);
    };

    auto out_pipe = make_pipe();
    auto err_pipe = make_pipe();
    auto run_pair = seqpacket_pair();
    if (!out_pipe || !err_pipe || !run_pair) {
        co_return failed(Verdict::internal_error,
                         !out_pipe ? out_pipe.error() : !err_pipe ? err_pipe.error() : run_pair.error());
    }
    std::vector<UniqueFd> cgroup_fds;
    if (group != nullptr) {
        auto fds = group->procs_fds();
        if (!fds) co_return failed(Verdict::setup_failed, fds.error());
        cgroup_fds = std::move(*fds);
    }
    {
        std::vector<int> fds{run_pair->second.get(), out_pipe->second.get(), err_pipe->second.get()};
        for (const auto& fd : cgroup_fds) fds.push_back(fd.get());
        auto sent = zygote.send_run(run_message(run_id, cfg, settings, group != nullptr, cgroup_fds.size(),
                                            request.network.value_or(cfg.network_mode == config::NetworkMode::egress)), fds);
        // Our copies of the run's ends go now: EOF on the pipes must mean the run is over.
        run_pair->second.reset();
        out_pipe->second.reset();
        err_pipe->second.reset();
        cgroup_fds.clear();
        if (!sent) co_return failed(Verdict::internal_error, sent.error());
    }
    Channel channel(ex, std::move(run_pair->first), Step::run_protocol);
    Killer killer;
    killer.group = group;
    RunFacts facts;
    const std::uint64_t flood_after = cfg.max_output_bytes * 4 + (1U << 20);
    OutputCapture out_cap(ex, std::move(out_pipe->first), cfg.max_output_bytes, flood_after,
                          [&] { facts.flooded = true; killer(); });
    OutputCapture err_cap(ex, std::move(err_pipe->first), cfg.max_output_bytes, flood_after,
                          [&] { facts.flooded = true; killer(); });

    auto ready = co_await await_ready(channel, settings.setup_timeout);
    if (!ready) {
        killer();
        co_return failed(ready.error().step == Step::run_protocol ? Verdict::internal_error
                                                                  : Verdict::setup_failed,
                         ready.error());
    }
    killer.pidfd = std::move(ready->fds[0]);
    UniqueFd workdir = std::move(ready->fds[1]);

    std::vector<sandbox::InputFile> inputs = request.files;
    inputs.push_back(sandbox::InputFile{"main.py", request.code});
    const Owner owner{settings.owner_host_uid, settings.owner_host_uid};
    if (auto w = write_inputs(workdir.get(), inputs, owner); !w) {
        killer();
        co_return failed(Verdict::setup_failed, w.error());
    }
    if (auto go = channel.send(json::object{{"type", "go"}}); !go) {
        killer();
        co_return failed(Verdict::internal_error, go.error());
    }
    const auto started = std::chrono::steady_clock::now();
    co_await ((out_cap.drain() && err_cap.drain() && await_exit(channel, facts)) ||
              watchdog(request.timeout, settings.kill_grace, facts, killer));
    out.execution_time = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    const auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) facts.cancelled = true;
    // Exited: pid 1 is gone, so the kernel has killed the rest of the run. Otherwise (lost
    // monitor, cancelled) kill now; either way nothing of the run runs on past this point.
    if (facts.exited) killer.done = true;
    killer();

    if (group != nullptr) facts.stats = group->stats();
    Collected collected = collect_outputs(workdir.get(), request.files, {"main.py"},
                                          CollectLimits{cfg.max_output_files, cfg.max_output_files_bytes, 32});
    out.files = std::move(collected.files);
    out.warnings = std::move(collected.warnings);
    out.stdout_text = out_cap.text();
    out.stderr_text = err_cap.text();
    out.stdout_truncated = out_cap.truncated();
    out.stderr_truncated = err_cap.truncated();
    apply_verdict(out, facts);
    co_return out;
}

}  // namespace sbx::pool
