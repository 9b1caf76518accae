// TokenBucket: refill on each use from the time elapsed since the last one.
#include "auth/token_bucket.h"

#include <algorithm>
#include <cmath>

#include "auth/limit_decision.h"

namespace sbx::auth {

TokenBucket::TokenBucket(double rate, double burst, Clock::time_point now)
    : rate_(rate), burst_(std::max(1.0, burst)), tokens_(burst_), last_(now) {}

void TokenBucket::refill(Clock::time_point now) {
    if (now <= last_) return;  // a clock that went back: no refill, and `last_` stays
    std::chrono::duration<double> elapsed = now - last_;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
    last_ = now;
}

double TokenBucket::peek(Clock::time_point now) const {
    if (now <= last_) return tokens_;
    std::chrono::duration<double> elapsed = now - last_;
    return std::min(burst_, tokens_ + elapsed.count() * rate_);
}

TokenBucket::Take TokenBucket::take(Clock::time_point now, double n) {
    refill(now);
    Take t;
    t.ok = tokens_ >= n;
    if (t.ok) tokens_ -= n;
    t.tokens = tokens_;
    if (!t.ok) t.wait = std::chrono::duration<double>((n - tokens_) / rate_);
    t.full = std::chrono::duration<double>((burst_ - tokens_) / rate_);
    return t;
}

void TokenBucket::reconfigure(double rate, double burst, Clock::time_point now) {
    refill(now);
    rate_ = rate;
    burst_ = std::max(1.0, burst);
    tokens_ = std::min(tokens_, burst_);
}

std::uint64_t ceil_seconds(double seconds) noexcept {
    if (!(seconds > 0)) return 0;
    if (seconds > 1e12) return static_cast<std::uint64_t>(1e12);
    return static_cast<std::uint64_t>(std::ceil(seconds - 1e-9));
}

std::string_view to_string(LimitKind k) noexcept {
    switch (k) {
        case LimitKind::rate:
            return "rate";
        case LimitKind::concurrency:
            return "concurrency";
        case LimitKind::sessions:
            return "sessions";
        case LimitKind::cpu_quota:
            return "cpu_quota";
    }
    return "?";
}

}  // namespace sbx::auth
