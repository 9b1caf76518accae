// A finished run → the 200 body: the original's six fields first, then ours.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sandbox/run_types.h"

namespace sbx::api {

// What the messages need besides the outcome.
struct ResponseContext {
    std::int64_t timeout_s = 30;                      // the request's timeout
    std::uint64_t memory_limit_bytes = 512ULL << 20;  // MEMORY_LIMIT
    std::uint64_t max_output_bytes = 1ULL << 20;      // MAX_OUTPUT_SIZE
};


// The "status" field: ok | error | timeout | memory_limit | output_limit | policy_violation |
// internal_error.
[[nodiscard]] std::string_view status_of(sandbox::Verdict v) noexcept;

// The "error" field: nullopt (JSON null) for ok, else the client-facing message. Never
// contains paths or errno: set-up failures say only "Sandbox error: <step>".
[[nodiscard]] std::optional<std::string> error_message(const sandbox::RunOutcome& outcome,
                                                       const ResponseContext& ctx);

// {"success","stdout","stderr","execution_time","files","error","status","exit_code","signal",
//  "cpu_time","memory_peak","stdout_truncated","stderr_truncated","warnings"}
[[nodiscard]] boost::json::object run_response_body(const sandbox::RunOutcome& outcome,
                                                    const ResponseContext& ctx);

}  // namespace sbx::api
