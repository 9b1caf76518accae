// What a run is asked to do and how it ended: the types shared by api, pool and sandbox.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sys/error.h"

namespace sbx::sandbox {

struct InputFile {
    std::string name;     // validated relative path ("data/in.csv"), UTF-8
    std::string content;  // decoded bytes
};

struct RunRequest {
    std::string request_id;  // for logs
    std::string code;        // becomes main.py in the work dir
    std::chrono::seconds timeout{30};
    std::vector<InputFile> files;
    std::optional<bool> network;  // the request's "network" flag; nullopt = server default
    // Who the run is admitted for (fair admission: a free slot goes round-robin among
    // subjects): "key:<id>" or "ip:<address>"; empty = one anonymous subject. concurrency: the
    // subject's limit of runs in flight (running + waiting), 0 = none.
    std::string subject;
    unsigned concurrency = 0;
};

// How a run ended. The first verdict that applies wins.
enum class Verdict : std::uint8_t {
    ok,                 // exit status 0
    nonzero_exit,       // exited with a status other than 0
    timeout,            // wall-clock limit reached; the whole tree was killed
    memory_limit,       // the memory cgroup killed it (or MemoryError under RLIMIT_AS)
    output_limit,       // kept writing after stdout/stderr reached MAX_OUTPUT_SIZE
    killed_by_signal,   // died of a signal we did not send
    seccomp_violation,  // killed by the seccomp filter (SIGSYS)
    policy_violation,   // the static code policy refused the code; it never ran
    setup_failed,       // the sandbox could not be built (failure says which step)
    internal_error,     // our bug or a lost zygote; failure says what
};

std::string_view to_string(Verdict v) noexcept;

struct OutputFile {
    std::string name;  // relative path under the work dir
    std::string content;
};

struct RunOutcome {
    Verdict verdict = Verdict::internal_error;
    std::optional<int> exit_code;  // set when the program exited
    std::optional<int> signal;     // set when it was killed by a signal
    std::string stdout_text;       // raw bytes as captured (the API makes them valid UTF-8)
    std::string stderr_text;
    bool stdout_truncated = false;
    bool stderr_truncated = false;
    std::vector<OutputFile> files;      // created or modified files, sorted by name
    std::vector<std::string> warnings;  // e.g. files skipped (symlink, FIFO, too large)
    std::chrono::microseconds execution_time{0};  // wall time of the user code
    std::optional<double> cpu_time_s;             // user+system CPU of the run's processes
    std::optional<std::uint64_t> memory_peak_bytes;
    std::string policy_message;           // the policy's message when verdict == policy_violation
    std::optional<sys::SysError> failure;  // set for setup_failed / internal_error
};

}  // namespace sbx::sandbox
