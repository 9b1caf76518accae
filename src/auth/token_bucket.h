// TokenBucket: `rate` tokens per second up to `burst`; time is passed in (a monotonic clock in
// the service, an injected one in tests), and time that goes backwards refills nothing.
#pragma once

#include <chrono>

namespace sbx::auth {

class TokenBucket {
   public:
    using Clock = std::chrono::steady_clock;

    // Starts full. rate > 0, burst >= 1.
    TokenBucket(double rate, double burst, Clock::time_point now);

    struct Take {
        bool ok = false;
        double tokens = 0;                      // left after the take (or now, when refused)
        std::chrono::duration<double> wait{0};  // refused: until one token is there
        std::chrono::duration<double> full{0};  // until the bucket is full again
    };
    // Takes `n` tokens if there are that many.
    Take take(Clock::time_point now, double n = 1);
    // The tokens there now, without taking.
    [[nodiscard]] double peek(Clock::time_point now) const;
    // New limits (a key was updated); the tokens kept are capped at the new burst.
    void reconfigure(double rate, double burst, Clock::time_point now);

    [[nodiscard]] double rate() const { return rate_; }
    [[nodiscard]] double burst() const { return burst_; }
    // True when full: such a bucket can be forgotten (a new one starts full).
    [[nodiscard]] bool full(Clock::time_point now) const { return peek(now) >= burst_; }

   private:
    void refill(Clock::time_point now);
    double rate_;
    double burst_;
    double tokens_;
    Clock::time_point last_;  // never moves backwards
};

}  // namespace sbx::auth
