// RateLimiter: requests per second per subject (key or client address) as token buckets — kept
// in memory on one replica, or shared by replicas through the store (PostgreSQL), so that N
// replicas together admit no more than the key's rate and burst.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "auth/limit_decision.h"
#include "auth/token_bucket.h"
#include "log/throttle.h"
#include "store/repository.h"

namespace sbx::auth {

struct RateSpec {
    double rate_per_s = 0;  // 0: no limit
    double burst = 0;       // 0: max(1, rate)
};

struct RateLimiterOptions {
    // Buckets kept: past this, full (idle) ones are forgotten; if all are in use, the rest is
    // cut to 90% (a forgotten subject starts again with a full bucket: memory stays bounded
    // however many client addresses show up).
    std::size_t max_buckets = 100'000;
    // Shared mode: tokens taken from the shared bucket in one round trip (rate x this, at least
    // 1, at most half the burst) and kept locally at most `reservoir_ttl`. Unused ones expire:
    // replicas may admit less than the rate together, never more.
    std::chrono::milliseconds chunk_of{100};
    std::chrono::milliseconds reservoir_ttl{1000};
};

// Thread-safe.
class RateLimiter {
   public:
    using Clock = std::function<TokenBucket::Clock::time_point()>;

    // In memory, this replica only (SQLite: one machine).
    explicit RateLimiter(RateLimiterOptions options = {}, Clock clock = {});
    // Shared through `repository` (its rate_buckets table), whose calls run on `blocking`. While
    // the store fails, each replica falls back to its own bucket (degraded(): says so).
    RateLimiter(store::Repository& repository, boost::asio::any_io_executor blocking,
                RateLimiterOptions options = {}, Clock clock = {});

    // Counts one request of `subject`. Never blocks the calling thread: a round trip to the
    // shared bucket runs on the blocking executor, and the caller resumes on its own executor.
    boost::asio::awaitable<LimitDecision> acquire(std::string subject, RateSpec spec);
    // The same decision from this replica's memory only (no store).
    LimitDecision acquire_local(const std::string& subject, RateSpec spec);

    [[nodiscard]] bool shared() const { return repository_ != nullptr; }
    [[nodiscard]] std::size_t buckets() const;
    // Non-empty while the shared buckets cannot be reached (for /health).
    [[nodiscard]] std::string degraded_reason() const;

   private:
    struct Reservoir {
        std::int64_t tokens = 0;
        TokenBucket::Clock::time_point expires;
        double shared_left = 0;  // tokens the shared bucket had at the last take
        // Refused by the shared bucket: no token can be there before this, so requests until
        // then are refused here, without a round trip (a flooding key costs the database
        // nothing more).
        TokenBucket::Clock::time_point blocked_until;
    };
    LimitDecision shared_decision(const std::string& subject, const RateSpec& spec,
                                  const store::Result<store::RateGrant>& grant);
    std::optional<LimitDecision> from_reservoir(const std::string& subject, const RateSpec& spec);
    static std::string rate_detail(const RateSpec& s);
    void sweep_locked(TokenBucket::Clock::time_point now);

    store::Repository* repository_ = nullptr;
    boost::asio::any_io_executor blocking_;
    const RateLimiterOptions options_;
    const Clock clock_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, TokenBucket> buckets_;  // local mode and fallback
    std::unordered_map<std::string, Reservoir> reservoirs_;
    std::string degraded_;
    log::Throttle log_throttle_{std::chrono::seconds(10)};
};

// The rate spec with its defaults applied (burst 0 -> max(1, rate)).
RateSpec effective(RateSpec spec);

}  // namespace sbx::auth
