// Throttle: counts events between two log lines.
#include "log/throttle.h"

#include <utility>

namespace sbx::log {

std::optional<std::uint64_t> Throttle::note(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    ++unlogged_;
    if (last_line_ && now - *last_line_ < interval_) return std::nullopt;
    last_line_ = now;
    return std::exchange(unlogged_, 0);
}

}  // namespace sbx::log
