// RunFactory: on-demand preparation and the per-kind stock of prepared runs.
#include "pool/run_factory.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <utility>

#include "log/log.h"

namespace sbx::pool {
namespace asio = boost::asio;
using sys::Result;

RunFactory::RunFactory(asio::any_io_executor ex, const config::Config& cfg, DriverSettings settings,
                       ZygotePool& zygotes, RunGroupFactory& groups, RunNetworkFactory* networks)
    : ex_(ex),
      strand_(asio::make_strand(ex)),
      cfg_(cfg),
      settings_(settings),
      zygotes_(zygotes),
      groups_(groups),
      networks_(networks),
      uids_(std::make_shared<sys::IdPool>(settings_.uid_base + 1, settings_.quotas.uid_count)) {}

RunFactory::~RunFactory() { stop(); }

void RunFactory::start() {
    if (cfg_.run_mode != config::RunMode::zygote || cfg_.prefork_runs == 0) return;
    for (auto key : stock_keys()) {
        asio::co_spawn(strand_, keep_stocked(key), [](const std::exception_ptr& e) {
            if (e) log::error("prefork loop ended by an exception");
        });
    }
}

void RunFactory::stop() {
    stopped_.store(true);
    std::map<StockKey, std::deque<PreparedRun>> dropped;
    {
        std::lock_guard lock(mu_);
        dropped.swap(stock_);
    }
    for (auto key : stock_keys()) wake(key);
}

std::vector<RunFactory::StockKey> RunFactory::stock_keys() const {
    std::vector<StockKey> keys;
    for (auto kind : {ZygoteKind::lean, ZygoteKind::full}) {
        keys.push_back(StockKey{kind, false});
        if (networks_ != nullptr) keys.push_back(StockKey{kind, true});
    }
    return keys;
}

unsigned RunFactory::stocked() const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& [kind, q] : stock_) n += q.size();
    return static_cast<unsigned>(n);
}

asio::awaitable<Result<PreparedRun>> RunFactory::make(ZygoteKind kind, bool network) {
    if (network && networks_ == nullptr) {  // the API refuses such requests; never reached
        co_return sys::SysError{sys::Step::network_start, EPERM, "NETWORK_MODE is none"};
    }
    const std::string run_id = "r" + std::to_string(next_id_.fetch_add(1));
    Result<std::shared_ptr<Zygote>> zygote = sys::SysError{sys::Step::zygote_start, 0, {}};
    if (kind == ZygoteKind::cold) {
        zygote = co_await zygotes_.start_cold();
    } else {
        zygote = co_await zygotes_.acquire(kind);
    }
    if (!zygote) co_return zygote.error();
    auto uid = uids_->acquire();
    if (!uid) {
        co_return sys::SysError{sys::Step::uid_pool, EAGAIN,
                                "all " + std::to_string(uids_->size()) +
                                    " run uids are in use (SANDBOX_UIDS)"};
    }
    SBX_CO_TRY(auto group, groups_.create(run_id, GroupLimits{cfg_.memory_limit_bytes, cfg_.pids_limit,
                                                              cfg_.cpu_limit_cores,
                                                              settings_.quotas.socket_bytes}));
    co_return co_await prepare_run(std::move(*zygote), run_id, std::move(*uid), std::move(group),
                                   network ? networks_ : nullptr, cfg_, settings_);
}

std::optional<PreparedRun> RunFactory::pop(StockKey key, std::size_t& left) {
    std::lock_guard lock(mu_);
    auto& q = stock_[key];
    while (!q.empty()) {
        PreparedRun run = std::move(q.front());
        q.pop_front();
        left = q.size();
        if (run.usable()) return run;
        // A dead one (its zygote was replaced): drop it.
        log::debug("prepared run dropped", {{"box", run.run_id}});
    }
    return std::nullopt;
}

void RunFactory::wake(StockKey key) {
    asio::post(strand_, [this, key] {
        if (auto it = wakeups_.find(key); it != wakeups_.end() && it->second) it->second->cancel();
    });
}

// The replacement of a taken run is prepared once that run has been answered (run_done), not
// while it runs: on a small machine the preparation (a fork of the zygote, the run's set-up)
// competes with the run it replaces (bench/README.md, "Prepared runs"). Only a take that
// empties the stock refills at once.
asio::awaitable<Result<PreparedRun>> RunFactory::take(ZygoteKind kind, bool network) {
    if (kind != ZygoteKind::cold) {
        const StockKey key{kind, network};
        std::size_t left = 0;
        if (auto run = pop(key, left)) {
            if (left == 0) wake(key);
            co_return std::move(*run);
        }
        wake(key);
    }
    co_return co_await make(kind, network);
}

void RunFactory::run_done(ZygoteKind kind, bool network) {
    if (kind != ZygoteKind::cold) wake(StockKey{kind, network});
}

// Tops the stock up. Runs with network are prepared side by side (up to PREFORK_RUNS in
// flight): their preparation mostly waits for slirp4netns to come up, and one at a time could
// not keep up with back-to-back requests. Others one at a time: their preparation is CPU work
// on the cores the runs use, and two at once cost the runs more than the stock gained
// (bench/README.md, "Prepared runs").
asio::awaitable<void> RunFactory::keep_stocked(StockKey key) {
    auto& timer = wakeups_[key];  // on the strand: no lock needed for wakeups_, in_flight_
    timer = std::make_unique<asio::steady_timer>(strand_);
    while (!stopped_.load()) {
        std::size_t have = 0;
        {
            std::lock_guard lock(mu_);
            have = stock_[key].size();
        }
        const bool failed = std::exchange(failed_[key], false);
        if (!failed && zygotes_.ready_count() > 0) {
            const unsigned parallel = key.network ? cfg_.prefork_runs : 1U;
            while (have + in_flight_[key] < cfg_.prefork_runs && in_flight_[key] < parallel) {
                ++in_flight_[key];
                asio::co_spawn(strand_, refill_one(key), [](const std::exception_ptr& e) {
                    if (e) log::error("prefork ended by an exception");
                });
            }
        }
        // Sleep until a run is taken or made (wake) or, after a failure or without zygotes,
        // a while.
        const bool short_nap = failed || zygotes_.ready_count() == 0;
        timer->expires_after(std::chrono::milliseconds(short_nap ? 200 : 60000));
        co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<void> RunFactory::refill_one(StockKey key) {
    auto run = co_await make(key.kind, key.network);
    --in_flight_[key];  // back on the strand
    if (run) {
        std::lock_guard lock(mu_);
        log::debug("prepared run stocked", {{"box", run->run_id}, {"kind", to_string(key.kind)},
                                            {"network", key.network ? 1 : 0}});
        if (!stopped_.load()) stock_[key].push_back(std::move(*run));
    } else {
        failed_[key] = true;
        log::warn("prefork failed", {{"kind", to_string(key.kind)}, {"error", run.error().render()}});
    }
    if (auto it = wakeups_.find(key); it != wakeups_.end() && it->second) it->second->cancel();
}

}  // namespace sbx::pool
