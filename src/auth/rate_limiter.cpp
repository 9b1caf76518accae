// RateLimiter: local token buckets; in shared mode, tokens taken from the store's bucket in
// small chunks and spent locally before they expire.
#include "auth/rate_limiter.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <cstdio>

#include "log/log.h"

namespace sbx::auth {
namespace {

namespace asio = boost::asio;
using TimePoint = TokenBucket::Clock::time_point;

}  // namespace

std::string RateLimiter::rate_detail(const RateSpec& s) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "Rate limit exceeded: %g requests per second (burst %g)",
                  s.rate_per_s, std::floor(s.burst));
    return buf;
}

namespace {

RateLimitValues values_of(const RateSpec& s, double tokens) {
    return RateLimitValues{static_cast<std::uint64_t>(std::floor(s.burst)),
                           static_cast<std::uint64_t>(std::max(0.0, std::floor(tokens))),
                           ceil_seconds((s.burst - tokens) / s.rate_per_s)};
}

}  // namespace

RateSpec effective(RateSpec spec) {
    if (spec.burst < 1) spec.burst = std::max(1.0, std::floor(spec.rate_per_s));
    return spec;
}

RateLimiter::RateLimiter(RateLimiterOptions options, Clock clock)
    : options_(options),
      clock_(clock ? std::move(clock) : [] { return TokenBucket::Clock::now(); }) {}

RateLimiter::RateLimiter(store::Repository& repository, asio::any_io_executor blocking,
                         RateLimiterOptions options, Clock clock)
    : RateLimiter(options, std::move(clock)) {
    repository_ = &repository;
    blocking_ = std::move(blocking);
}

void RateLimiter::sweep_locked(TimePoint now) {
    // A full bucket behaves like a new one, and an expired reservoir holds nothing.
    std::erase_if(buckets_, [&](const auto& kv) { return kv.second.full(now); });
    std::erase_if(reservoirs_, [&](const auto& kv) { return now >= kv.second.expires; });
    const std::size_t keep = options_.max_buckets - options_.max_buckets / 10;
    while (buckets_.size() > keep) buckets_.erase(buckets_.begin());
    while (reservoirs_.size() > keep) reservoirs_.erase(reservoirs_.begin());
}

std::size_t RateLimiter::buckets() const {
    std::lock_guard lock(mu_);
    return buckets_.size();
}

LimitDecision RateLimiter::acquire_local(const std::string& subject, RateSpec spec) {
    spec = effective(spec);
    if (spec.rate_per_s <= 0) return LimitDecision::allow();
    const auto now = clock_();
    std::lock_guard lock(mu_);
    auto it = buckets_.find(subject);
    if (it == buckets_.end()) {
        if (buckets_.size() >= options_.max_buckets) sweep_locked(now);
        it = buckets_.emplace(subject, TokenBucket(spec.rate_per_s, spec.burst, now)).first;
    } else if (it->second.rate() != spec.rate_per_s || it->second.burst() != spec.burst) {
        it->second.reconfigure(spec.rate_per_s, spec.burst, now);
    }
    auto t = it->second.take(now);
    auto v = values_of(spec, t.tokens);
    if (t.ok) return LimitDecision::allow(v);
    return LimitDecision::refuse(LimitKind::rate, ceil_seconds(t.wait.count()), v,
                                 rate_detail(spec));
}

std::optional<LimitDecision> RateLimiter::from_reservoir(const std::string& subject,
                                                         const RateSpec& spec) {
    const auto now = clock_();
    std::lock_guard lock(mu_);
    auto it = reservoirs_.find(subject);
    if (it == reservoirs_.end()) return std::nullopt;
    if (now < it->second.blocked_until) {
        const std::chrono::duration<double> wait = it->second.blocked_until - now;
        return LimitDecision::refuse(LimitKind::rate, ceil_seconds(wait.count()),
                                     values_of(spec, it->second.shared_left), rate_detail(spec));
    }
    if (it->second.tokens <= 0 || now >= it->second.expires) return std::nullopt;
    --it->second.tokens;
    auto v = values_of(spec, it->second.shared_left + static_cast<double>(it->second.tokens));
    return LimitDecision::allow(v);
}

LimitDecision RateLimiter::shared_decision(const std::string& subject, const RateSpec& spec,
                                           const store::Result<store::RateGrant>& grant) {
    if (!grant) {
        {
            std::lock_guard lock(mu_);
            degraded_ = "rate limits: shared buckets unreachable, each replica counts alone: " +
                        grant.error().render();
            if (auto n = log_throttle_.note()) {
                log::warn("rate bucket unreachable",
                          {{"error", grant.error().render()}, {"times", *n}});
            }
        }
        return acquire_local(subject, spec);
    }
    const auto now = clock_();
    std::lock_guard lock(mu_);
    degraded_.clear();
    auto v = values_of(spec, grant->tokens_left);
    if (reservoirs_.size() >= options_.max_buckets) sweep_locked(now);
    auto& r = reservoirs_[subject];
    if (grant->granted < 1) {
        const double wait = (1 - grant->tokens_left) / spec.rate_per_s;
        r.blocked_until = now + std::chrono::duration_cast<TokenBucket::Clock::duration>(
                                    std::chrono::duration<double>(wait));
        r.shared_left = grant->tokens_left;
        r.expires = std::max(r.expires, r.blocked_until);  // kept by sweeps while it blocks
        return LimitDecision::refuse(LimitKind::rate, ceil_seconds(wait), v, rate_detail(spec));
    }
    if (now >= r.expires) r.tokens = 0;
    r.tokens += grant->granted - 1;  // one is this request's
    r.expires = now + options_.reservoir_ttl;
    r.shared_left = grant->tokens_left;
    v.remaining += static_cast<std::uint64_t>(r.tokens);
    return LimitDecision::allow(v);
}

asio::awaitable<LimitDecision> RateLimiter::acquire(std::string subject, RateSpec spec) {
    spec = effective(spec);
    if (spec.rate_per_s <= 0) co_return LimitDecision::allow();
    if (repository_ == nullptr) co_return acquire_local(subject, spec);
    if (auto d = from_reservoir(subject, spec)) co_return *d;
    const double per_chunk =
        spec.rate_per_s * std::chrono::duration<double>(options_.chunk_of).count();
    const auto want = static_cast<std::int64_t>(
        std::clamp(std::floor(per_chunk), 1.0, std::max(1.0, std::floor(spec.burst / 2))));
    // Named, not a temporary in the co_await expression (GCC bug 99576, see key_cache.cpp).
    auto take = [repo = repository_, subject, spec,
                 want]() -> asio::awaitable<store::Result<store::RateGrant>> {
        co_return repo->take_rate_tokens(subject, spec.rate_per_s, spec.burst, want);
    };
    auto grant = co_await asio::co_spawn(blocking_, std::move(take), asio::use_awaitable);
    co_return shared_decision(subject, spec, grant);
}

std::string RateLimiter::degraded_reason() const {
    std::lock_guard lock(mu_);
    return degraded_;
}

}  // namespace sbx::auth
