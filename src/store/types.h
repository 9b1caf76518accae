// The records the store keeps: API keys, run history, async jobs; and the queries over them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sbx::store {

// Times are microseconds since the Unix epoch (UTC), as stored in both engines.
using TimeUs = std::int64_t;
TimeUs now_us();
// The UTC day of a time, "2026-12-06" (CPU quotas count per UTC day).
std::string utc_day(std::chrono::system_clock::time_point t);

enum class Role : std::uint8_t { user, admin };
std::string_view to_string(Role r) noexcept;
std::optional<Role> role_from(std::string_view text) noexcept;

// Caps a key holds its requests' `limits` under (each below the server's own setting).
struct LimitCaps {
    std::optional<std::int64_t> memory_mb;
    std::optional<double> cpu_seconds;
    std::optional<std::int64_t> processes;
    std::optional<std::int64_t> output_bytes;
    std::optional<std::int64_t> workdir_mb;
    std::optional<std::int64_t> timeout_s;
    bool operator==(const LimitCaps&) const = default;
    [[nodiscard]] bool empty() const { return *this == LimitCaps{}; }
};

// A key's limits; 0 means "no limit" for each.
struct KeyLimits {
    double rate_per_s = 0;           // requests per second (token bucket refill)
    std::uint32_t burst = 0;         // bucket size; 0 = max(1, rate)
    std::uint32_t concurrency = 0;   // runs in flight at once
    std::uint32_t sessions = 0;      // live sessions at once
    double cpu_seconds_per_day = 0;  // CPU-seconds per UTC day
    std::optional<bool> network;     // nullopt: the server's default; false: never; true: may ask
    std::optional<LimitCaps> caps;   // nullopt: the server's caps only
    bool operator==(const KeyLimits&) const = default;
};

struct KeyRecord {
    std::string id;    // public, e.g. "k3f9a0c2d1b7e"; part of the key text
    std::string name;  // who it is for
    Role role = Role::user;
    std::string key_hash;  // SHA-256 of the whole key text, 32 raw bytes; the key is not kept
    KeyLimits limits;
    TimeUs created_us = 0;
    std::optional<TimeUs> revoked_us;
    TimeUs updated_us = 0;
};

// A change to a key: fields left nullopt stay as they are.
struct KeyUpdate {
    std::optional<std::string> name;
    std::optional<Role> role;
    std::optional<double> rate_per_s;
    std::optional<std::uint32_t> burst;
    std::optional<std::uint32_t> concurrency;
    std::optional<std::uint32_t> sessions;
    std::optional<double> cpu_seconds_per_day;
    std::optional<std::optional<bool>> network;    // {nullopt}: back to the server default
    std::optional<std::optional<LimitCaps>> caps;  // {nullopt}: remove the caps
};

struct RunRecord {
    std::string run_id;
    std::optional<std::string> key_id;      // nullopt: no key (AUTH_MODE=none)
    std::optional<std::string> session_id;  // set for a session's cells
    std::string language = "python";
    TimeUs started_us = 0;
    std::int64_t duration_us = 0;
    std::int64_t queue_wait_us = 0;
    std::string status;  // the response's status: "success", "error", "timeout", ...
    std::optional<std::int64_t> exit_code;
    std::optional<std::int64_t> signal;
    std::optional<double> cpu_seconds;
    std::optional<std::int64_t> memory_peak_bytes;
    std::int64_t code_bytes = 0;
    std::int64_t input_bytes = 0;  // input files, decoded
    std::int64_t stdout_bytes = 0;
    std::int64_t stderr_bytes = 0;
    std::int64_t output_files = 0;
    std::int64_t output_files_bytes = 0;
    // HISTORY=full only (truncated by the recorder); nullopt otherwise.
    std::optional<std::string> code;
    std::optional<std::string> stdout_text;
    std::optional<std::string> stderr_text;
    bool operator==(const RunRecord&) const = default;
};

struct RunQuery {
    std::optional<std::string> key_id;  // scope: nullopt = every key's runs (admin)
    std::size_t limit = 50;             // 1..1000
    std::optional<std::string> before;  // cursor: a run_id; runs older than it
    std::optional<std::string> status;
    std::optional<std::string> session_id;
};

struct RunPage {
    std::vector<RunRecord> runs;      // newest first
    std::optional<std::string> next;  // the `before` for the next page; nullopt at the end
};

enum class JobState : std::uint8_t { queued, running, done, failed };
std::string_view to_string(JobState s) noexcept;
std::optional<JobState> job_state_from(std::string_view text) noexcept;

enum class CallbackState : std::uint8_t { none, pending, delivered, failed };
std::string_view to_string(CallbackState s) noexcept;

struct JobRecord {
    std::string id;
    std::optional<std::string> key_id;
    std::optional<std::string> batch_id;  // jobs submitted together share it
    std::int64_t batch_index = 0;         // place in the batch
    JobState state = JobState::queued;
    std::string request;                // the body as received (JSON bytes)
    std::optional<std::string> result;  // when done/failed: the results (JSON bytes)
    std::int64_t attempts = 0;          // leases taken so far
    std::optional<std::string> lease_owner;
    std::optional<TimeUs> lease_expires_us;
    TimeUs created_us = 0;
    TimeUs updated_us = 0;
    std::optional<TimeUs> finished_us;
    std::optional<std::string> callback_url;
    CallbackState callback_state = CallbackState::none;
    std::int64_t callback_attempts = 0;
    std::optional<TimeUs> callback_next_us;
    std::optional<std::string> callback_error;
};

// What retention removed.
struct PruneResult {
    std::int64_t runs = 0;
    std::int64_t jobs = 0;
    std::int64_t usage_rows = 0;
};

}  // namespace sbx::store
