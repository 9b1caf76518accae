// ZygotePool: keeps the configured zygotes alive (replacing dead ones) and hands them to runs.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <map>
#include <mutex>
#include <vector>

#include "pool/zygote.h"

namespace sbx::pool {

struct ZygotePoolOptions {
    unsigned full_zygotes = 1;              // pre-imported data-science zygotes
    bool lean_zygote = true;                // one bare zygote for code that imports nothing heavy
    std::vector<std::string> preload;       // modules of the full zygotes
    std::chrono::milliseconds ready_timeout{120000};
    std::chrono::milliseconds respawn_delay{500};
};

class ZygotePool {
public:
    ZygotePool(boost::asio::any_io_executor ex, ZygoteLauncher& launcher, ZygotePoolOptions opts);
    ~ZygotePool();

    // Starts every zygote and waits until they are ready (or failed: see ready_count()).
    boost::asio::awaitable<void> start();
    // A live zygote of that kind (full falls back to lean and vice versa; if none is alive, a
    // cold one is started for this run alone). Errors only when no zygote can be started.
    boost::asio::awaitable<sys::Result<std::shared_ptr<Zygote>>> acquire(ZygoteKind wanted);
    // A fresh cold zygote for one run (RUN_MODE=cold).
    boost::asio::awaitable<sys::Result<std::shared_ptr<Zygote>>> start_cold();
    void stop();  // kills every zygote (and so every run in flight)

    [[nodiscard]] unsigned ready_count() const;
    [[nodiscard]] std::optional<ZygoteInfo> any_info() const;
    // Zygotes replaced after they died, by kind ("lean", "full"), since start (for metrics).
    [[nodiscard]] std::map<std::string, std::uint64_t> restarts() const;

private:
    struct Slot {
        ZygoteSpec spec;
        std::shared_ptr<Zygote> zygote;  // null while (re)starting
    };
    boost::asio::awaitable<sys::Result<std::shared_ptr<Zygote>>> launch(const ZygoteSpec& spec);
    boost::asio::awaitable<void> keep_alive(std::size_t index);

    boost::asio::any_io_executor ex_;
    ZygoteLauncher& launcher_;
    ZygotePoolOptions opts_;
    boost::asio::thread_pool blocking_{2};  // spawner calls block: keep them off the I/O threads
    mutable std::mutex mu_;
    std::vector<Slot> slots_;
    std::size_t next_ = 0;
    bool stopped_ = false;
    std::map<std::string, std::uint64_t> restarts_;
};

}  // namespace sbx::pool
