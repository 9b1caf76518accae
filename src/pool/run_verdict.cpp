// Verdict rules: policy > set-up failure > timeout > output flood > memory > signal > exit code.
#include "pool/run_verdict.h"

#include <array>
#include <cerrno>
#include <csignal>

namespace sbx::pool {
using sandbox::Verdict;
using sys::Step;
using sys::SysError;

namespace {

// Every step name the Python runtime sends in an `error` message (docs/ARCHITECTURE.md, "Wire
// protocol"), by the process that reports it. tests/runtime/test_step_names.py checks that the
// runtime sends no other name; a name outside this list is a protocol error.
constexpr std::array kRuntimeSteps{
    // zygote, starting the run; G's unshare of its cgroup namespace reports `unshare` too
    Step::unshare,
    Step::fork_run,
    // run (G), in set-up order
    Step::cgroup_join,
    Step::sethostname,
    Step::net_limits,
    Step::mount_private,
    Step::mount_tmpfs,
    Step::mount_proc,
    Step::mask_proc,
    Step::loopback_up,
    Step::rlimit,
    Step::set_ids,
    Step::setgroups,
    Step::uid_map,
    Step::gid_map,
    Step::drop_caps,
    Step::no_new_privs,
    Step::seccomp_load,
    Step::prctl,
    Step::wait_go,
    Step::internal,
};

Step step_from_name(std::string_view name) {
    for (const Step step : kRuntimeSteps) {
        if (sys::to_string(step) == name) return step;
    }
    return Step::run_protocol;
}

// Under RLIMIT_AS (no memory cgroup) Python fails with MemoryError instead of being killed.
bool ended_with_memory_error(std::string_view err) {
    while (!err.empty() && err.back() == '\n') err.remove_suffix(1);
    const auto line = err.substr(err.rfind('\n') + 1);
    return line == "MemoryError" || line.starts_with("MemoryError:");
}

}  // namespace

int flush_signal() { return SIGRTMAX; }

SysError setup_error_from(const boost::json::object& body) {
    SysError e{Step::run_protocol, 0, {}};
    if (auto it = body.find("step"); it != body.end() && it->value().is_string()) {
        e.step = step_from_name(it->value().as_string());
        if (e.step == Step::run_protocol) e.detail = std::string(it->value().as_string()) + ": ";
    }
    if (auto it = body.find("errno"); it != body.end() && it->value().is_int64()) {
        e.err = static_cast<int>(it->value().as_int64());
    }
    if (auto it = body.find("detail"); it != body.end() && it->value().is_string()) {
        e.detail += std::string(it->value().as_string());
    }
    return e;
}

void apply_verdict(sandbox::RunOutcome& out, const RunFacts& f, const VerdictLimits& limits) {
    out.exit_code = f.exit_code;
    out.signal = f.signal;
    // Without a group the zygote's figure (G and the children it reaped) is the best there is.
    out.cpu_time_s = f.stats.cpu_time_s ? f.stats.cpu_time_s : f.reported_cpu_time_s;
    out.memory_peak_bytes = f.stats.memory_peak_bytes;
    if (out.stdout_truncated || out.stderr_truncated) {
        out.warnings.push_back("output truncated at MAX_OUTPUT_SIZE (" +
                               std::to_string(limits.max_output_bytes) + " bytes per stream)");
    }
    if (f.policy_message) {
        out.verdict = Verdict::policy_violation;
        out.policy_message = *f.policy_message;
        out.exit_code.reset();  // G's _exit(0) after refusing is not the program's status
        out.signal.reset();
        out.stdout_text.clear();
        out.stderr_text.clear();
        out.files.clear();
    } else if (f.setup_error) {
        out.verdict = Verdict::setup_failed;
        out.failure = f.setup_error;
    } else if (f.timed_out) {
        out.verdict = Verdict::timeout;
    } else if (f.cpu_limited) {
        out.verdict = Verdict::timeout;
        out.warnings.emplace_back("CPU time limit reached");
    } else if (f.flooded) {
        out.verdict = Verdict::output_limit;
    } else if ((f.stats.oom_kills > 0 && (f.signal || out.exit_code.value_or(0) != 0)) ||
               (out.exit_code == 1 && ended_with_memory_error(out.stderr_text))) {
        out.verdict = Verdict::memory_limit;
    } else if (!f.exited) {
        out.verdict = Verdict::internal_error;
        out.failure = f.protocol_error.value_or(
            f.cancelled ? SysError{Step::run_protocol, ECANCELED, "client went away"}
                        : SysError{Step::run_protocol, 0, "run lost"});
    } else if (f.signal == SIGSYS) {
        out.verdict = Verdict::seccomp_violation;
    } else if (f.signal) {
        out.verdict = Verdict::killed_by_signal;
    } else if (f.exit_code.value_or(1) != 0) {
        out.verdict = Verdict::nonzero_exit;
    } else {
        out.verdict = Verdict::ok;
    }
    if (f.stats.oom_kills > 0 && out.verdict != Verdict::memory_limit) {
        // The program survived, but the kernel killed some of its processes: say so, or a
        // child that vanished would look like the program's own doing.
        out.warnings.push_back(std::to_string(f.stats.oom_kills) +
                               " process(es) of the run killed for exceeding MEMORY_LIMIT (" +
                               std::to_string(limits.memory_limit_bytes >> 20) + " MiB)");
    }
}

}  // namespace sbx::pool
