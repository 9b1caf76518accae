// apply_verdict: the precedence of verdicts and the figures copied into the outcome.
#include <gtest/gtest.h>

#include <csignal>
#include <string_view>

#include "pool/run_verdict.h"

namespace sbx::pool {
namespace {
using sandbox::RunOutcome;
using sandbox::Verdict;

RunFacts exited(int code) {
    RunFacts f;
    f.exited = true;
    f.exit_code = code;
    return f;
}

RunFacts killed(int sig) {
    RunFacts f;
    f.exited = true;
    f.signal = sig;
    return f;
}

Verdict verdict_of(const RunFacts& f, std::string stderr_text = {}) {
    RunOutcome o;
    o.stderr_text = std::move(stderr_text);
    apply_verdict(o, f);
    return o.verdict;
}

TEST(Verdict, ExitCodes) {
    EXPECT_EQ(verdict_of(exited(0)), Verdict::ok);
    EXPECT_EQ(verdict_of(exited(3)), Verdict::nonzero_exit);
}

TEST(Verdict, Signals) {
    EXPECT_EQ(verdict_of(killed(SIGSEGV)), Verdict::killed_by_signal);
    EXPECT_EQ(verdict_of(killed(SIGSYS)), Verdict::seccomp_violation);
}

TEST(Verdict, TimeoutBeatsTheKillSignal) {
    auto f = killed(SIGKILL);
    f.timed_out = true;
    f.flooded = true;
    EXPECT_EQ(verdict_of(f), Verdict::timeout);
}

TEST(Verdict, FloodAndMemory) {
    auto f = killed(SIGKILL);
    f.flooded = true;
    EXPECT_EQ(verdict_of(f), Verdict::output_limit);
    auto m = killed(SIGKILL);
    m.stats.oom_kills = 1;
    EXPECT_EQ(verdict_of(m), Verdict::memory_limit);
    // An OOM kill of a child while the program still exits 0 is not a failure of the run.
    auto child_only = exited(0);
    child_only.stats.oom_kills = 1;
    EXPECT_EQ(verdict_of(child_only), Verdict::ok);
    // Without a memory cgroup: MemoryError under RLIMIT_AS.
    EXPECT_EQ(verdict_of(exited(1), "Traceback ...\nMemoryError\n"), Verdict::memory_limit);
    EXPECT_EQ(verdict_of(exited(1), "Traceback ...\nValueError: MemoryError\n"),
              Verdict::nonzero_exit);
}

TEST(Verdict, PolicyWinsAndClearsOutput) {
    auto f = exited(0);
    f.policy_message = "Security policy violation: Dangerous builtin function detected: eval";
    RunOutcome o;
    o.stdout_text = "x";
    apply_verdict(o, f);
    EXPECT_EQ(o.verdict, Verdict::policy_violation);
    EXPECT_EQ(o.policy_message, *f.policy_message);
    EXPECT_TRUE(o.stdout_text.empty());
    // G exits 0 after refusing, but the program never ran: no exit status to report.
    EXPECT_FALSE(o.exit_code.has_value());
    EXPECT_FALSE(o.signal.has_value());
}

TEST(Verdict, RunWithoutExitReportIsInternalError) {
    RunFacts f;  // never exited
    RunOutcome o;
    apply_verdict(o, f);
    EXPECT_EQ(o.verdict, Verdict::internal_error);
    ASSERT_TRUE(o.failure.has_value());
}

TEST(Verdict, SetupErrorMessage) {
    auto body = boost::json::object{
        {"type", "error"}, {"step", "mount_tmpfs"}, {"errno", 1}, {"detail", "/work"}};
    auto e = setup_error_from(body);
    EXPECT_EQ(e.step, sys::Step::mount_tmpfs);
    EXPECT_EQ(e.err, 1);
    EXPECT_EQ(e.render(), "mount_tmpfs: EPERM (Operation not permitted) [/work]");
}

// Every step name runtime/ can send (docs/ARCHITECTURE.md; tests/runtime/test_step_names.py
// checks the runtime against run_verdict.cpp) comes back as the Step of that name: the client's
// "Sandbox error: <step>" names it.
TEST(Verdict, EveryRuntimeStepNameRoundTrips) {
    for (const std::string_view name :
         {"unshare", "fork_run", "cgroup_join", "sethostname", "mount_private",
          "mount_tmpfs", "mount_proc", "mask_proc", "loopback_up", "drop_caps", "set_ids",
          "no_new_privs", "rlimit", "seccomp_load", "prctl", "wait_go", "internal"}) {
        auto e = setup_error_from(
            boost::json::object{{"type", "error"}, {"step", name}, {"errno", 11}, {"detail", "d"}});
        EXPECT_EQ(sys::to_string(e.step), name);
        EXPECT_NE(e.step, sys::Step::run_protocol) << name;
        EXPECT_EQ(e.err, 11) << name;
        EXPECT_EQ(e.detail, "d") << name;  // no "<name>: " prefix: the step is known
    }
}

TEST(Verdict, UnknownStepNameIsRunProtocol) {
    auto unknown = setup_error_from(
        boost::json::object{{"step", "frobnicate"}, {"errno", 2}, {"detail", "x"}});
    EXPECT_EQ(unknown.step, sys::Step::run_protocol);
    EXPECT_EQ(unknown.err, 2);
    EXPECT_EQ(unknown.detail, "frobnicate: x");
    // A server-side step is not one the runtime reports: still a protocol error.
    EXPECT_EQ(setup_error_from(boost::json::object{{"step", "spawner_start"}}).step,
              sys::Step::run_protocol);
    auto missing = setup_error_from(boost::json::object{{"type", "error"}});
    EXPECT_EQ(missing.step, sys::Step::run_protocol);
    EXPECT_EQ(missing.detail, "");
}

// The end report's parsing moved to pool_end_pipe_test (EndPipe.EndStatusOnlyZeroTo255).


TEST(Verdict, WarningsAreDecidedHere) {
    RunFacts f;
    f.exited = true;
    f.exit_code = 0;
    f.stats.oom_kills = 2;
    RunOutcome o;
    o.stdout_truncated = true;
    apply_verdict(o, f, VerdictLimits{1000, 64ULL << 20});
    EXPECT_EQ(o.verdict, Verdict::ok);
    ASSERT_EQ(o.warnings.size(), 2U);
    EXPECT_EQ(o.warnings[0], "output truncated at MAX_OUTPUT_SIZE (1000 bytes per stream)");
    EXPECT_EQ(o.warnings[1],
              "2 process(es) of the run killed for exceeding MEMORY_LIMIT (64 MiB)");
}

TEST(Verdict, CpuTimeFallsBackToTheExitReport) {
    RunFacts f;
    f.exited = true;
    f.exit_code = 0;
    f.reported_cpu_time_s = 0.5;
    RunOutcome o;
    apply_verdict(o, f);
    EXPECT_EQ(o.cpu_time_s, 0.5);
    f.stats.cpu_time_s = 0.75;  // the group's figure wins when there is one
    apply_verdict(o, f);
    EXPECT_EQ(o.cpu_time_s, 0.75);
}

}  // namespace
}  // namespace sbx::pool
