// What the driver observed of a run, and the one place that turns it into a verdict.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "pool/run_group.h"
#include "sandbox/run_types.h"

namespace sbx::pool {

struct RunFacts {
    bool exited = false;  // G's end is known: the zygote's exit report, or the runner's end report
    std::optional<int> end_report;  // the runner's "end N" (the program's own claim)
    bool answered_early = false;    // answered from end_report while G was still exiting
    std::optional<int> exit_code;
    std::optional<int> signal;
    bool timed_out = false;
    bool flooded = false;
    bool cancelled = false;     // the client went away
    std::optional<std::string> policy_message;
    std::optional<sys::SysError> setup_error;
    std::optional<sys::SysError> protocol_error;
    GroupStats stats;
};

// The runner's end report on the end pipe: exactly "end N\n" with 0 <= N <= 255, else nullopt.
std::optional<int> parse_end_report(std::string_view text);

// At the deadline the server asks G to flush what its streams still buffer (text without a
// newline) before the kill: this signal, answered by this line on the end pipe. Mirrored in
// runtime/pysandbox_runtime/runner.py (FLUSH_SIGNAL, FLUSHED).
int flush_signal();
inline constexpr std::string_view kFlushedLine = "flushed\n";

// {"type":"error","step":"mount_tmpfs","errno":1,"detail":"/work"} -> SysError.
// A step name the runtime does not send gives Step::run_protocol, the name kept in detail.
sys::SysError setup_error_from(const boost::json::object& body);

// Fills verdict, exit_code, signal, failure, cpu/memory figures. First verdict that applies wins.
void apply_verdict(sandbox::RunOutcome& out, const RunFacts& facts);

}  // namespace sbx::pool
