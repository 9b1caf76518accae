// PeriodicTask: runs a blocking function every interval on an executor the caller owns (the
// shared blocking-work pool); no thread of its own.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace sbx::store {

// Thread-safe. fn never runs twice at once; an interval counts from the end of the last run.
class PeriodicTask {
   public:
    PeriodicTask(boost::asio::any_io_executor executor, std::chrono::milliseconds interval,
                 std::function<void()> fn);
    ~PeriodicTask();  // stop()
    PeriodicTask(const PeriodicTask&) = delete;
    PeriodicTask& operator=(const PeriodicTask&) = delete;

    // First run after `first_delay` (0: as soon as the executor gets to it).
    void start(std::chrono::milliseconds first_delay = std::chrono::milliseconds(0));
    // No further runs; waits for a run in progress to return.
    void stop();
    // Number of completed runs (tests, status).
    [[nodiscard]] std::uint64_t runs() const;

   private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace sbx::store
