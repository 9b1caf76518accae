// The answer to "may this request go on?": which limit refused it, and the values of the
// Retry-After and IETF RateLimit-* headers (draft-ietf-httpapi-ratelimit-headers), as data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sbx::auth {

enum class LimitKind : std::uint8_t {
    rate,         // requests per second (token bucket)
    concurrency,  // runs in flight
    sessions,     // live sessions
    cpu_quota,    // CPU-seconds per UTC day
};
std::string_view to_string(LimitKind k) noexcept;  // "rate", "concurrency", ... (metrics label)

// The RateLimit-* values for the limit that applies to the request.
struct RateLimitValues {
    std::uint64_t limit = 0;      // RateLimit-Limit: the bucket size (burst), sessions, ...
    std::uint64_t remaining = 0;  // RateLimit-Remaining
    std::uint64_t reset_s = 0;    // RateLimit-Reset: seconds until `remaining` is back at `limit`
};

struct LimitDecision {
    bool allowed = true;
    std::optional<LimitKind> exceeded;      // set when refused
    std::uint64_t retry_after_s = 0;        // Retry-After when refused (at least 1)
    std::optional<RateLimitValues> values;  // nullopt: no limit applied (no headers)
    std::string detail;                     // the 429's detail: which limit, in words

    static LimitDecision allow(std::optional<RateLimitValues> v = std::nullopt) {
        return LimitDecision{true, std::nullopt, 0, v, {}};
    }
    static LimitDecision refuse(LimitKind kind, std::uint64_t retry_after_s, RateLimitValues v,
                                std::string detail) {
        return LimitDecision{false, kind, retry_after_s < 1 ? 1 : retry_after_s, v,
                             std::move(detail)};
    }
};

// Seconds, rounded up, for headers: 0.2 s -> 1.
std::uint64_t ceil_seconds(double seconds) noexcept;

}  // namespace sbx::auth
