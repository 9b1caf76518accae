// Names of run verdicts (logs and the API's status mapping).
#include "sandbox/run_types.h"

namespace sbx::sandbox {

std::string_view to_string(Verdict v) noexcept {
    switch (v) {
        case Verdict::ok: return "ok";
        case Verdict::nonzero_exit: return "nonzero_exit";
        case Verdict::timeout: return "timeout";
        case Verdict::memory_limit: return "memory_limit";
        case Verdict::output_limit: return "output_limit";
        case Verdict::killed_by_signal: return "killed_by_signal";
        case Verdict::seccomp_violation: return "seccomp_violation";
        case Verdict::policy_violation: return "policy_violation";
        case Verdict::setup_failed: return "setup_failed";
        case Verdict::internal_error: return "internal_error";
    }
    return "unknown";
}

}  // namespace sbx::sandbox
