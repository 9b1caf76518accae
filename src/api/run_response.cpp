// Verdict → status and message; outcome → response JSON (outputs made valid UTF-8).
#include "api/run_response.h"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <cstring>

#include "api/base64.h"
#include "api/utf8.h"

namespace sbx::api {
namespace json = boost::json;
using sandbox::Verdict;

std::string_view status_of(Verdict v) noexcept {
    switch (v) {
        case Verdict::ok:
            return "ok";
        case Verdict::nonzero_exit:
        case Verdict::killed_by_signal:
        case Verdict::seccomp_violation:
            return "error";
        case Verdict::timeout:
            return "timeout";
        case Verdict::memory_limit:
            return "memory_limit";
        case Verdict::output_limit:
            return "output_limit";
        case Verdict::policy_violation:
            return "policy_violation";
        case Verdict::setup_failed:
        case Verdict::internal_error:
            return "internal_error";
    }
    return "internal_error";
}

namespace {

// 536870912 → "512 MiB", 1536 → "1.5 KiB"-free exact forms only; else "N bytes".
std::string human_bytes(std::uint64_t n) {
    if (n >= (1ULL << 30) && n % (1ULL << 30) == 0) return std::to_string(n >> 30) + " GiB";
    if (n >= (1ULL << 20) && n % (1ULL << 20) == 0) return std::to_string(n >> 20) + " MiB";
    if (n >= (1ULL << 10) && n % (1ULL << 10) == 0) return std::to_string(n >> 10) + " KiB";
    return std::to_string(n) + " bytes";
}

std::string signal_text(std::optional<int> sig) {
    if (!sig) return "killed by a signal";
    const char* abbrev = sigabbrev_np(*sig);
    std::string out = "killed by signal " + std::to_string(*sig);
    if (abbrev != nullptr) out += std::string(" (SIG") + abbrev + ")";
    return out;
}

std::string output_limit_text(const sandbox::RunOutcome& o, const ResponseContext& ctx) {
    std::string which = o.stdout_truncated && o.stderr_truncated ? "stdout and stderr"
                        : o.stderr_truncated                     ? "stderr"
                                                                 : "stdout";
    return "Output limit exceeded: " + which + " exceeded " + human_bytes(ctx.max_output_bytes);
}

std::string sandbox_error_text(const sandbox::RunOutcome& o) {
    if (!o.failure) return "Sandbox error: internal error";
    return "Sandbox error: " + std::string(sys::to_string(o.failure->step));
}

}  // namespace

std::optional<std::string> error_message(const sandbox::RunOutcome& o, const ResponseContext& ctx) {
    switch (o.verdict) {
        case Verdict::ok:
            return std::nullopt;
        case Verdict::nonzero_exit:
            return "Code execution failed";
        case Verdict::timeout:
            return "代码执行超时（" + std::to_string(ctx.timeout_s) + "秒）";
        case Verdict::memory_limit:
            return "Memory limit exceeded (limit: " + human_bytes(ctx.memory_limit_bytes) + ")";
        case Verdict::output_limit:
            return output_limit_text(o, ctx);
        case Verdict::killed_by_signal:
            return "Code execution failed: " + signal_text(o.signal);
        case Verdict::seccomp_violation:
            return "Code execution failed: blocked system call";
        case Verdict::policy_violation:
            return o.policy_message.empty() ? "Security policy violation" : o.policy_message;
        case Verdict::setup_failed:
        case Verdict::internal_error:
            return sandbox_error_text(o);
    }
    return sandbox_error_text(o);
}

namespace {

template <class T>
json::value optional_value(const std::optional<T>& v) {
    if (!v) return nullptr;
    return json::value(*v);
}

}  // namespace

json::object run_response_body(const sandbox::RunOutcome& o, const ResponseContext& ctx) {
    json::object files;
    for (const auto& f : o.files) files[sanitize_output(f.name)] = base64_encode(f.content);
    json::array warnings;
    for (const auto& w : o.warnings) warnings.emplace_back(sanitize_output(w));
    auto error = error_message(o, ctx);

    json::object body;
    body["success"] = o.verdict == Verdict::ok;
    body["stdout"] = sanitize_output(o.stdout_text);
    body["stderr"] = sanitize_output(o.stderr_text);
    body["execution_time"] = static_cast<double>(o.execution_time.count()) / 1e6;
    body["files"] = std::move(files);
    body["error"] = error ? json::value(*error) : json::value(nullptr);
    body["status"] = status_of(o.verdict);
    body["exit_code"] = optional_value(o.exit_code);
    body["signal"] = optional_value(o.signal);
    body["cpu_time"] = optional_value(o.cpu_time_s);
    body["memory_peak"] = optional_value(o.memory_peak_bytes);
    body["stdout_truncated"] = o.stdout_truncated;
    body["stderr_truncated"] = o.stderr_truncated;
    body["warnings"] = std::move(warnings);
    return body;
}

}  // namespace sbx::api
