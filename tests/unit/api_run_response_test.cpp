// Outcome → response JSON for every verdict: status, error text, fields and their order.
#include <gtest/gtest.h>

#include "api/json_text.h"
#include "api/run_response.h"

namespace sbx::api {
namespace {

using sandbox::RunOutcome;
using sandbox::Verdict;

RunOutcome outcome(Verdict v) {
    RunOutcome o;
    o.verdict = v;
    return o;
}

std::optional<std::string> message(Verdict v, RunOutcome o = {}) {
    o.verdict = v;
    ResponseContext ctx{7, 512ULL << 20, 1ULL << 20};
    return error_message(o, ctx);
}

TEST(RunResponse, StatusForEveryVerdict) {
    EXPECT_EQ(status_of(Verdict::ok), "ok");
    EXPECT_EQ(status_of(Verdict::nonzero_exit), "error");
    EXPECT_EQ(status_of(Verdict::killed_by_signal), "error");
    EXPECT_EQ(status_of(Verdict::seccomp_violation), "error");
    EXPECT_EQ(status_of(Verdict::timeout), "timeout");
    EXPECT_EQ(status_of(Verdict::memory_limit), "memory_limit");
    EXPECT_EQ(status_of(Verdict::output_limit), "output_limit");
    EXPECT_EQ(status_of(Verdict::policy_violation), "policy_violation");
    EXPECT_EQ(status_of(Verdict::setup_failed), "internal_error");
    EXPECT_EQ(status_of(Verdict::internal_error), "internal_error");
}

TEST(RunResponse, ErrorMessages) {
    EXPECT_FALSE(message(Verdict::ok));
    EXPECT_EQ(message(Verdict::nonzero_exit), "Code execution failed");
    EXPECT_EQ(message(Verdict::timeout), "代码执行超时（7秒）");
    EXPECT_EQ(message(Verdict::memory_limit), "Memory limit exceeded (limit: 512 MiB)");
    RunOutcome big;
    big.stderr_truncated = true;
    EXPECT_EQ(message(Verdict::output_limit, big), "Output limit exceeded: stderr exceeded 1 MiB");
    RunOutcome sig;
    sig.signal = 11;
    EXPECT_EQ(message(Verdict::killed_by_signal, sig),
              "Code execution failed: killed by signal 11 (SIGSEGV)");
    EXPECT_EQ(message(Verdict::seccomp_violation), "Code execution failed: blocked system call");
    RunOutcome pol;
    pol.policy_message = "Security policy violation: Dangerous builtin function detected: eval";
    EXPECT_EQ(message(Verdict::policy_violation, pol), pol.policy_message);
    RunOutcome fail;
    fail.failure = sys::SysError{sys::Step::mount_tmpfs, 28, "/run/secret/path"};
    EXPECT_EQ(message(Verdict::setup_failed, fail), "Sandbox error: mount_tmpfs");
    EXPECT_EQ(message(Verdict::internal_error, fail), "Sandbox error: mount_tmpfs");
    EXPECT_EQ(message(Verdict::internal_error), "Sandbox error: internal error");
}

TEST(RunResponse, OkBodyExactShape) {
    RunOutcome o = outcome(Verdict::ok);
    o.exit_code = 0;
    o.stdout_text = "hi\n";
    o.execution_time = std::chrono::microseconds(123456);
    o.cpu_time_s = 0.05;
    o.memory_peak_bytes = 1024;
    o.files = {{"out.bin", std::string("\x00\xff", 2)}, {"empty.txt", ""}};
    auto text = to_json_text(run_response_body(o, ResponseContext{}));
    EXPECT_EQ(
        text,
        R"({"success":true,"stdout":"hi\n","stderr":"","execution_time":0.123456,)"
        R"("files":{"out.bin":"AP8=","empty.txt":""},"error":null,"status":"ok","exit_code":0,)"
        R"("signal":null,"cpu_time":0.05,"memory_peak":1024,"stdout_truncated":false,)"
        R"("stderr_truncated":false,"warnings":[]})");
}

TEST(RunResponse, FailureBodySanitizesOutput) {
    RunOutcome o = outcome(Verdict::timeout);
    o.signal = 9;
    o.stdout_text = std::string("a\0b\xff", 4);
    o.stdout_truncated = true;
    o.warnings = {"skipped fifo"};
    auto body = run_response_body(o, ResponseContext{2, 1, 1});
    EXPECT_EQ(body.at("success"), false);
    EXPECT_EQ(body.at("stdout"), "ab\uFFFD");
    EXPECT_EQ(body.at("error"), "代码执行超时（2秒）");
    EXPECT_EQ(body.at("status"), "timeout");
    EXPECT_EQ(body.at("signal"), 9);
    EXPECT_TRUE(body.at("exit_code").is_null());
    EXPECT_TRUE(body.at("cpu_time").is_null());
    EXPECT_EQ(body.at("stdout_truncated"), true);
    EXPECT_EQ(body.at("warnings").as_array().size(), 1u);
}

}  // namespace
}  // namespace sbx::api
