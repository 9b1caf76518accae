// apply_verdict: the precedence of verdicts and the figures copied into the outcome.
#include <gtest/gtest.h>

#include <csignal>

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
    EXPECT_EQ(verdict_of(exited(1), "Traceback ...\nValueError: MemoryError\n"), Verdict::nonzero_exit);
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
}

TEST(Verdict, LostMonitorIsInternalError) {
    RunFacts f;  // never exited
    RunOutcome o;
    apply_verdict(o, f);
    EXPECT_EQ(o.verdict, Verdict::internal_error);
    ASSERT_TRUE(o.failure.has_value());
}

TEST(Verdict, SetupErrorMessage) {
    auto body = boost::json::object{{"type", "error"}, {"step", "mount_tmpfs"}, {"errno", 1}, {"detail", "/work"}};
    auto e = setup_error_from(body);
    EXPECT_EQ(e.step, sys::Step::mount_tmpfs);
    EXPECT_EQ(e.err, 1);
    EXPECT_EQ(e.render(), "mount_tmpfs: EPERM (Operation not permitted) [/work]");
    auto unknown = setup_error_from(boost::json::object{{"step", "frobnicate"}, {"errno", 2}});
    EXPECT_EQ(unknown.step, sys::Step::run_protocol);
    EXPECT_NE(unknown.detail.find("frobnicate"), std::string::npos);
}

}  // namespace
}  // namespace sbx::pool
