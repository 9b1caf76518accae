// Retention: the periodic clean-up of the store (HISTORY_RETENTION_DAYS, HISTORY_MAX_ROWS),
// run on the blocking-work executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "store/periodic.h"
#include "store/repository.h"

namespace sbx::store {

struct RetentionSettings {
    unsigned days = 30;                  // runs and finished jobs older than this go; 0 = keep
    std::uint64_t max_rows = 1'000'000;  // then the oldest runs past this many go; 0 = no cap
    std::chrono::milliseconds interval{std::chrono::minutes(10)};
};

struct RetentionStatus {
    std::uint64_t passes = 0;  // clean-ups done
    PruneResult removed;       // in all, since start
    std::string last_error;    // empty when the last pass worked
};

// Thread-safe. Also removes CPU usage of days before yesterday and rate buckets idle for an
// hour (they are kept only to share limits between replicas).
class Retention {
   public:
    using WallClock = std::function<std::chrono::system_clock::time_point()>;

    Retention(Repository& repository, boost::asio::any_io_executor blocking,
              RetentionSettings settings, WallClock clock = {});
    ~Retention();
    Retention(const Retention&) = delete;
    Retention& operator=(const Retention&) = delete;

    void start();  // a first pass at once, then every interval
    void stop();
    // One pass now (blocking).
    Result<PruneResult> run_once();
    // What a pass at `now` deletes (for tests and the docs).
    [[nodiscard]] RetentionPolicy policy_at(std::chrono::system_clock::time_point now) const;

    [[nodiscard]] RetentionStatus status() const;

   private:
    Repository& repository_;
    boost::asio::any_io_executor blocking_;
    const RetentionSettings settings_;
    const WallClock clock_;
    std::unique_ptr<PeriodicTask> task_;
    mutable std::mutex mu_;
    RetentionStatus status_;
};

}  // namespace sbx::store
