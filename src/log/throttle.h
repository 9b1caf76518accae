// Rate limit for a log line about a repeated event: at most one line per interval, with a count.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace sbx::log {

// Thread-safe.
class Throttle {
   public:
    using Clock = std::chrono::steady_clock;

    explicit Throttle(Clock::duration interval) : interval_(interval) {}

    // Counts one event. When the caller should log now (the first event, or the first one an
    // interval after the last line), returns how many events that line stands for (this one
    // and those since the last line); otherwise nullopt.
    [[nodiscard]] std::optional<std::uint64_t> note(Clock::time_point now = Clock::now());

   private:
    const Clock::duration interval_;
    std::mutex mutex_;
    std::optional<Clock::time_point> last_line_;
    std::uint64_t unlogged_ = 0;
};

}  // namespace sbx::log
