// RunFactory: on-demand preparation and the per-kind stock of prepared runs.
#include "pool/run_factory.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "log/log.h"

namespace sbx::pool {
namespace asio = boost::asio;
using sys::Result;

RunFactory::RunFactory(asio::any_io_executor ex, const config::Config& cfg, DriverSettings settings,
                       ZygotePool& zygotes, RunGroupFactory& groups)
    : ex_(ex),
      strand_(asio::make_strand(ex)),
      cfg_(cfg),
      settings_(settings),
      zygotes_(zygotes),
      groups_(groups),
      default_network_(cfg.network_mode == config::NetworkMode::egress) {}

RunFactory::~RunFactory() { stop(); }

void RunFactory::start() {
    if (cfg_.run_mode != config::RunMode::zygote || cfg_.prefork_runs == 0) return;
    for (auto kind : {ZygoteKind::lean, ZygoteKind::full}) {
        asio::co_spawn(strand_, keep_stocked(kind), [](const std::exception_ptr& e) {
            if (e) log::error("prefork loop ended by an exception");
        });
    }
}

void RunFactory::stop() {
    stopped_.store(true);
    std::map<ZygoteKind, std::deque<PreparedRun>> dropped;
    {
        std::lock_guard lock(mu_);
        dropped.swap(stock_);
    }
    for (auto kind : {ZygoteKind::lean, ZygoteKind::full}) wake(kind);
}

unsigned RunFactory::stocked() const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& [kind, q] : stock_) n += q.size();
    return static_cast<unsigned>(n);
}

asio::awaitable<Result<PreparedRun>> RunFactory::make(ZygoteKind kind, bool network) {
    const std::string run_id = "r" + std::to_string(next_id_.fetch_add(1));
    Result<std::shared_ptr<Zygote>> zygote = sys::SysError{sys::Step::zygote_start, 0, {}};
    if (kind == ZygoteKind::cold) {
        zygote = co_await zygotes_.start_cold();
    } else {
        zygote = co_await zygotes_.acquire(kind);
    }
    if (!zygote) co_return zygote.error();
    SBX_CO_TRY(auto group, groups_.create(run_id, GroupLimits{cfg_.memory_limit_bytes, cfg_.pids_limit,
                                                              cfg_.cpu_limit_cores}));
    co_return co_await prepare_run(std::move(*zygote), run_id, std::move(group), network, cfg_, settings_);
}

std::optional<PreparedRun> RunFactory::pop(ZygoteKind kind, bool network) {
    std::lock_guard lock(mu_);
    auto& q = stock_[kind];
    while (!q.empty()) {
        PreparedRun run = std::move(q.front());
        q.pop_front();
        if (run.usable() && run.network == network) return run;
        log::debug("prepared run dropped", {{"box", run.run_id}, {"usable", run.usable() ? 1 : 0}});
        // A dead one (its zygote was replaced) or one for the other network setting: drop it.
    }
    return std::nullopt;
}

void RunFactory::wake(ZygoteKind kind) {
    asio::post(strand_, [this, kind] {
        if (auto it = wakeups_.find(kind); it != wakeups_.end() && it->second) it->second->cancel();
    });
}

asio::awaitable<Result<PreparedRun>> RunFactory::take(ZygoteKind kind, bool network) {
    if (kind != ZygoteKind::cold && network == default_network_) {
        if (auto run = pop(kind, network)) {
            wake(kind);
            co_return std::move(*run);
        }
        wake(kind);
    }
    co_return co_await make(kind, network);
}

asio::awaitable<void> RunFactory::keep_stocked(ZygoteKind kind) {
    auto& timer = wakeups_[kind];  // on the strand: no lock needed for wakeups_
    timer = std::make_unique<asio::steady_timer>(strand_);
    while (!stopped_.load()) {
        std::size_t have = 0;
        {
            std::lock_guard lock(mu_);
            have = stock_[kind].size();
        }
        if (have < cfg_.prefork_runs && zygotes_.ready_count() > 0) {
            auto run = co_await make(kind, default_network_);
            if (run) {
                std::lock_guard lock(mu_);
                log::debug("prepared run stocked", {{"box", run->run_id}, {"kind", to_string(kind)}});
                if (!stopped_.load()) stock_[kind].push_back(std::move(*run));
                continue;
            }
            log::warn("prefork failed", {{"kind", to_string(kind)}, {"error", run.error().render()}});
        }
        // Sleep until a run is taken (wake) or, after a failure or without zygotes, a while.
        timer->expires_after(std::chrono::milliseconds(have < cfg_.prefork_runs ? 200 : 60000));
        co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

}  // namespace sbx::pool
