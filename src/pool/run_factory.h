// RunFactory: hands out PreparedRuns — from a small stock kept ready per zygote kind and
// network setting (PREFORK_RUNS each; both settings with egress), or prepared on demand when
// the stock is empty or in cold mode.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <deque>
#include <map>
#include <mutex>

#include "config/config.h"
#include "pool/run_group.h"
#include "pool/run_network.h"
#include "pool/run_prepare.h"
#include "pool/zygote_pool.h"
#include "sys/id_pool.h"

namespace sbx::pool {

class RunFactory {
public:
    RunFactory(boost::asio::any_io_executor ex, const config::Config& cfg, DriverSettings settings,
               ZygotePool& zygotes, RunGroupFactory& groups, RunNetworkFactory* networks);
    ~RunFactory();

    void start();  // begins keeping the stock (zygote mode with PREFORK_RUNS > 0)
    void stop();   // drops the stock (its runs are killed) and stops refilling

    // A run for a zygote of `kind` (cold: a fresh cold zygote) with the given network setting.
    boost::asio::awaitable<sys::Result<PreparedRun>> take(ZygoteKind kind, bool network);
    // The run taken for (kind, network) has been answered: time to replace it in the stock.
    void run_done(ZygoteKind kind, bool network);

    [[nodiscard]] unsigned stocked() const;

private:
    boost::asio::awaitable<sys::Result<PreparedRun>> make(ZygoteKind kind, bool network);
    struct StockKey {
        ZygoteKind kind;
        bool network;
        auto operator<=>(const StockKey&) const = default;
    };
    boost::asio::awaitable<void> keep_stocked(StockKey key);
    boost::asio::awaitable<void> refill_one(StockKey key);
    std::optional<PreparedRun> pop(StockKey key, std::size_t& left);
    void wake(StockKey key);
    [[nodiscard]] std::vector<StockKey> stock_keys() const;

    boost::asio::any_io_executor ex_;
    boost::asio::strand<boost::asio::any_io_executor> strand_;  // the refill loops and wake-ups
    const config::Config& cfg_;
    DriverSettings settings_;
    ZygotePool& zygotes_;
    RunGroupFactory& groups_;
    RunNetworkFactory* networks_;  // null without egress
    std::shared_ptr<sys::IdPool> uids_;  // host uids of runs: one per prepared or running run
    mutable std::mutex mu_;
    std::map<StockKey, std::deque<PreparedRun>> stock_;
    std::map<StockKey, std::unique_ptr<boost::asio::steady_timer>> wakeups_;  // strand only
    std::map<StockKey, unsigned> in_flight_;  // strand only: runs being prepared for the stock
    std::map<StockKey, bool> failed_;         // strand only: the last preparation failed
    std::atomic<std::uint64_t> next_id_{1};
    std::atomic<bool> stopped_{false};
};

}  // namespace sbx::pool
