// What the driver observed of a run, and the one place that turns it into a verdict.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "pool/run_group.h"
#include "sandbox/run_types.h"

namespace sbx::pool {

struct RunFacts {
    bool exited = false;  // G's end is known: the zygote's exit report, or the runner's end report
    std::optional<int> end_report;  // the runner's "end" record (the program's own claim)
    bool answered_early = false;    // answered from end_report while G was still exiting
    std::optional<int> exit_code;
    std::optional<int> signal;
    bool timed_out = false;
    bool flooded = false;
    bool cpu_limited = false;   // killed for exceeding its CPU-time limit
    bool cancelled = false;     // the client went away
    std::optional<std::string> policy_message;
    std::optional<sys::SysError> setup_error;
    std::optional<sys::SysError> protocol_error;
    GroupStats stats;
    std::optional<double> reported_cpu_time_s;  // the zygote's exit report (no group: used)
    std::chrono::microseconds execution_time{0};  // from go to the end
};

// The figures the warnings quote.
struct VerdictLimits {
    std::uint64_t max_output_bytes = 0;   // MAX_OUTPUT_SIZE, per stream
    std::uint64_t memory_limit_bytes = 0;  // MEMORY_LIMIT
};

// At the deadline the server asks G to flush what its streams still buffer (text without a
// newline) before the kill: this signal, answered by a "flushed" record on the end pipe.
// Mirrored in runtime/pysandbox_runtime/runner.py (DEADLINE_SIGNAL).
int flush_signal();

// {"type":"error","step":"mount_tmpfs","errno":1,"detail":"/work"} -> SysError.
// A step name the runtime does not send gives Step::run_protocol, the name kept in detail.
sys::SysError setup_error_from(const boost::json::object& body);

// Fills verdict, exit_code, signal, failure, cpu/memory figures and the warnings about them
// (output truncated, processes killed for memory). First verdict that applies wins.
void apply_verdict(sandbox::RunOutcome& out, const RunFacts& facts,
                   const VerdictLimits& limits = {});

}  // namespace sbx::pool
