// Token buckets and the local rate limiter, with an injected clock (also going backwards).
#include <gtest/gtest.h>

#include "auth/rate_limiter.h"
#include "auth/token_bucket.h"

namespace sbx::auth {
namespace {

using namespace std::chrono_literals;
using Clock = TokenBucket::Clock;

TEST(TokenBucket, BurstThenRate) {
    const auto t0 = Clock::time_point{} + 1000s;
    TokenBucket b(5, 20, t0);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(b.take(t0).ok) << i;
    auto refused = b.take(t0);
    EXPECT_FALSE(refused.ok);
    EXPECT_NEAR(refused.wait.count(), 0.2, 1e-9);  // one token at 5/s
    EXPECT_NEAR(refused.full.count(), 4.0, 1e-9);
    EXPECT_FALSE(b.take(t0 + 199ms).ok);
    EXPECT_TRUE(b.take(t0 + 200ms).ok);
    EXPECT_FALSE(b.take(t0 + 200ms).ok);
    EXPECT_NEAR(b.peek(t0 + 1h), 20, 1e-9);  // never past the burst
}

TEST(TokenBucket, AClockGoingBackwardsRefillsNothing) {
    const auto t0 = Clock::time_point{} + 1000s;
    TokenBucket b(10, 1, t0);
    ASSERT_TRUE(b.take(t0).ok);
    // Back by an hour: no refill, and no debt either.
    EXPECT_FALSE(b.take(t0 - 1h).ok);
    EXPECT_NEAR(b.peek(t0 - 1h), 0, 1e-9);
    // Time is measured from the latest instant seen, not from the one that went back.
    EXPECT_FALSE(b.take(t0 + 50ms).ok);
    EXPECT_TRUE(b.take(t0 + 100ms).ok);
}

TEST(TokenBucket, ReconfigureCapsTheTokens) {
    const auto t0 = Clock::time_point{} + 1000s;
    TokenBucket b(1, 100, t0);
    b.reconfigure(1, 3, t0);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(b.take(t0).ok);
    EXPECT_FALSE(b.take(t0).ok);
}

TEST(RateLimiter, LocalDecisionsCarryTheHeaders) {
    auto now = Clock::time_point{} + 1000s;
    RateLimiter limiter({}, [&] { return now; });
    const RateSpec spec{5, 20};
    LimitDecision d;
    for (int i = 0; i < 20; ++i) {
        d = limiter.acquire_local("key:a", spec);
        ASSERT_TRUE(d.allowed);
    }
    EXPECT_EQ(d.values->limit, 20u);
    EXPECT_EQ(d.values->remaining, 0u);
    EXPECT_EQ(d.values->reset_s, 4u);
    d = limiter.acquire_local("key:a", spec);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.exceeded, LimitKind::rate);
    EXPECT_EQ(d.retry_after_s, 1u);
    EXPECT_NE(d.detail.find("5 requests per second"), std::string::npos) << d.detail;
    // Another subject is not affected; no limit means no headers.
    EXPECT_TRUE(limiter.acquire_local("key:b", spec).allowed);
    auto free = limiter.acquire_local("key:c", RateSpec{0, 0});
    EXPECT_TRUE(free.allowed);
    EXPECT_FALSE(free.values);
    // The clock going back does not unblock, going forward does.
    now -= 10min;
    EXPECT_FALSE(limiter.acquire_local("key:a", spec).allowed);
    now += 10min + 200ms;
    EXPECT_TRUE(limiter.acquire_local("key:a", spec).allowed);
}

TEST(RateLimiter, ASlowRateWaitsWholeSecondsAndBurstDefaultsToTheRate) {
    auto now = Clock::time_point{} + 1000s;
    RateLimiter limiter({}, [&] { return now; });
    EXPECT_EQ(effective({0.1, 0}).burst, 1);
    EXPECT_EQ(effective({7.5, 0}).burst, 7);
    ASSERT_TRUE(limiter.acquire_local("ip:1.2.3.4", {0.1, 0}).allowed);
    auto d = limiter.acquire_local("ip:1.2.3.4", {0.1, 0});
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.retry_after_s, 10u);
}

TEST(RateLimiter, IdleBucketsAreForgottenPastTheBound) {
    auto now = Clock::time_point{} + 1000s;
    RateLimiterOptions o;
    o.max_buckets = 100;
    RateLimiter limiter(o, [&] { return now; });
    // A subject that is still limited is remembered while idle (full) buckets are forgotten.
    ASSERT_TRUE(limiter.acquire_local("ip:hot", {0.001, 1}).allowed);
    for (int i = 0; i < 10000; ++i) {
        ASSERT_TRUE(limiter.acquire_local("ip:" + std::to_string(i), {1000, 1}).allowed);
        now += 10ms;  // each refills (1 ms at 1000/s) and becomes forgettable
    }
    EXPECT_FALSE(limiter.acquire_local("ip:hot", {0.001, 1}).allowed);
    // Many subjects at once that are all limited: the map stays bounded (the oldest go).
    for (int i = 0; i < 10000; ++i) limiter.acquire_local("ip:y" + std::to_string(i), {0.001, 1});
    EXPECT_LE(limiter.buckets(), 100u);
}

}  // namespace
}  // namespace sbx::auth
