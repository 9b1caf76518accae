// RunFactory: hands out PreparedRuns — from a small stock kept ready per zygote kind
// (PREFORK_RUNS), or prepared on demand when the stock is empty or the request is unusual.
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
#include "pool/run_prepare.h"
#include "pool/zygote_pool.h"

namespace sbx::pool {

class RunFactory {
public:
    RunFactory(boost::asio::any_io_executor ex, const config::Config& cfg, DriverSettings settings,
               ZygotePool& zygotes, RunGroupFactory& groups);
    ~RunFactory();

    void start();  // begins keeping the stock (zygote mode with PREFORK_RUNS > 0)
    void stop();   // drops the stock (its runs are killed) and stops refilling

    // A run for a zygote of `kind` (cold: a fresh cold zygote) with the given network setting.
    boost::asio::awaitable<sys::Result<PreparedRun>> take(ZygoteKind kind, bool network);

    [[nodiscard]] unsigned stocked() const;

private:
    boost::asio::awaitable<sys::Result<PreparedRun>> make(ZygoteKind kind, bool network);
    boost::asio::awaitable<void> keep_stocked(ZygoteKind kind);
    std::optional<PreparedRun> pop(ZygoteKind kind, bool network);
    void wake(ZygoteKind kind);

    boost::asio::any_io_executor ex_;
    boost::asio::strand<boost::asio::any_io_executor> strand_;  // the refill loops and wake-ups
    const config::Config& cfg_;
    DriverSettings settings_;
    ZygotePool& zygotes_;
    RunGroupFactory& groups_;
    const bool default_network_;
    mutable std::mutex mu_;
    std::map<ZygoteKind, std::deque<PreparedRun>> stock_;
    std::map<ZygoteKind, std::unique_ptr<boost::asio::steady_timer>> wakeups_;  // strand only
    std::atomic<std::uint64_t> next_id_{1};
    std::atomic<bool> stopped_{false};
};

}  // namespace sbx::pool
