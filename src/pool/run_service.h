// RunService: what the HTTP API needs from the engine. Implemented by pool::Engine.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "auth/limit_decision.h"
#include "sandbox/run_types.h"

namespace sbx::pool {

// Why a run was not started at all (the API answers 429/503 with Retry-After).
enum class Rejection : std::uint8_t {
    queue_full,     // MAX_CONCURRENT_RUNS busy and MAX_QUEUED_RUNS waiting
    queue_timeout,  // waited QUEUE_TIMEOUT for a slot
    shutting_down,  // SIGTERM received
    unavailable,    // isolation missing and degraded mode not allowed
    no_run_uid,     // every run uid (SANDBOX_UIDS) is held by a prepared or running run
    subject_limit,  // the subject's own concurrency limit (RunReply::limit has the details)
};

struct RunReply {
    std::optional<Rejection> rejected;  // set: outcome is empty
    sandbox::RunOutcome outcome;
    std::chrono::microseconds queue_wait{0};  // time spent waiting for a run slot
    // subject_limit: the 429's detail and its Retry-After / RateLimit-* values.
    std::optional<auth::LimitDecision> limit;
};

struct LayerStatus {
    std::string name;    // "user_namespace", "seccomp", "cgroup_memory", ...
    bool active = false;
    std::string detail;  // e.g. "cgroup v1", or why it is missing
};

struct HealthReport {
    bool healthy = true;               // false: "degraded"
    bool draining = false;             // SIGTERM received: finishing runs, taking no new ones
    std::vector<std::string> reasons;  // why degraded
    std::vector<LayerStatus> layers;
    std::string run_mode;              // "zygote" | "cold"
    unsigned running = 0, queued = 0, capacity = 0, queue_capacity = 0;
    unsigned prepared = 0;  // sandboxes set up ahead of requests (PREFORK_RUNS per zygote kind)
    std::string python_version;                    // "3.11.2"
    std::map<std::string, std::string> packages;   // importable package -> version
    std::map<std::string, std::uint64_t> zygote_restarts;  // kind -> zygotes replaced since start
};

class RunService {
public:
    virtual ~RunService() = default;
    // Runs one request to its end. Never throws for a run's failure: that is in the outcome.
    // Cancelling the awaiting coroutine (client gone) kills and cleans the run.
    virtual boost::asio::awaitable<RunReply> run(sandbox::RunRequest request) = 0;
    // Cheap, never blocks (served by /health under load).
    [[nodiscard]] virtual HealthReport health() const = 0;
};

}  // namespace sbx::pool
