// The zygote's pre-built plan: allow-listed binds only, read-only flags, exact argv and env.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <string>

#include "sandbox/child_plan.h"

namespace sbx::sandbox {
namespace {

ChildPlan plan_for(const ZygoteSpec& spec) {
    auto plan = build_zygote_plan(spec, "/stage");
    EXPECT_TRUE(plan) << plan.error().render();
    return plan ? std::move(*plan) : ChildPlan{};
}

ZygoteSpec spec() {
    ZygoteSpec s;
    s.runtime_dir = "/opt/rt";
    s.preload = {"numpy", "pandas"};
    return s;
}

TEST(SandboxZygotePlan, BindsAreAllowListedAndReadOnly) {
    const auto plan = plan_for(spec());
    bool has_usr = false;
    bool has_runtime = false;
    for (const auto& op : plan.ops) {
        ASSERT_TRUE(op.dst.starts_with("/stage")) << op.dst;
        if (op.kind != OpKind::bind) continue;
        for (const char* secret : {"shadow", "sudoers", "ssh", "gshadow"}) {
            EXPECT_EQ(op.arg.find(secret), std::string::npos) << op.arg;
        }
        if (op.arg.starts_with("/dev/")) {
            EXPECT_EQ(op.flags & MOUNT_ATTR_NOSUID, MOUNT_ATTR_NOSUID) << op.arg;
            EXPECT_EQ(op.flags & MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOEXEC) << op.arg;
            continue;
        }
        EXPECT_EQ(op.flags, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) << op.arg;
        has_usr |= op.arg == "/usr" && op.dst == "/stage/usr";
        has_runtime |= op.arg == "/opt/rt" && op.dst == "/stage/opt/pysandbox";
    }
    EXPECT_TRUE(has_usr);
    EXPECT_TRUE(has_runtime);
    EXPECT_EQ(plan.ops.front().kind, OpKind::tmpfs);  // the root tmpfs comes first
    EXPECT_EQ(plan.ops.front().dst, "/stage");
}

TEST(SandboxZygotePlan, ArgvAndEnvAreExact) {
    auto s = spec();
    s.script = "lean.py";
    s.extra_env = {"X=1"};
    const auto plan = plan_for(std::move(s));
    ASSERT_EQ(plan.argv.size(), 5U);
    EXPECT_STREQ(plan.argv[0], "/usr/bin/python3");
    EXPECT_STREQ(plan.argv[1], "-I");
    EXPECT_STREQ(plan.argv[2], "-B");
    EXPECT_STREQ(plan.argv[3], "/opt/pysandbox/lean.py");
    EXPECT_EQ(plan.argv[4], nullptr);
    EXPECT_STREQ(plan.envp[0], "PYSANDBOX_MODE=zygote");
    EXPECT_STREQ(plan.envp[1], "PYSANDBOX_PRELOAD=numpy,pandas");
    EXPECT_STREQ(plan.envp[plan.envp.size() - 2], "X=1");
    EXPECT_EQ(plan.envp.back(), nullptr);
}

TEST(SandboxZygotePlan, RejectsBadSpecs) {
    auto s = spec();
    s.runtime_dir = "relative";
    EXPECT_FALSE(build_zygote_plan(s, "/stage"));
    s = spec();
    s.script = "../escape.py";
    auto r = build_zygote_plan(s, "/stage");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().step, sys::Step::zygote_start);
}

TEST(SandboxZygotePlan, FailureDetailNamesThePathInsideTheSandbox) {
    const auto plan = plan_for(spec());
    for (std::size_t i = 0; i < plan.ops.size(); ++i) {
        if (plan.ops[i].dst == "/stage/opt/pysandbox" && plan.ops[i].kind == OpKind::bind) {
            const ChildFailure f{sys::Step::mount_bind, ENOENT, static_cast<std::int32_t>(i)};
            EXPECT_EQ(describe_failure(plan, f), "/opt/rt -> /opt/pysandbox");
        }
    }
    EXPECT_EQ(describe_failure(plan, ChildFailure{sys::Step::execve, ENOENT, -1}),
              "/usr/bin/python3");
}

}  // namespace
}  // namespace sbx::sandbox

namespace sbx::sandbox {
namespace {

// Each zygote's /proc/sys/user limits (per uid of its namespace, i.e. per run) are written into
// its own proc, after that is mounted; a name that could leave /proc/sys/user is refused.
TEST(SandboxZygotePlan, UserLimitsAreWrittenToTheZygotesOwnProc) {
    auto s = spec();
    s.user_limits = {"max_inotify_instances=5", "max_fanotify_marks=0"};
    const auto plan = plan_for(s);
    std::vector<std::pair<std::string, std::string>> written;
    bool proc_seen = false;
    for (const auto& op : plan.ops) {
        proc_seen |= op.kind == OpKind::proc;
        if (op.kind != OpKind::sysctl) continue;
        EXPECT_TRUE(proc_seen) << op.dst;
        EXPECT_EQ(op.step, sys::Step::user_limits);
        written.emplace_back(op.dst, op.arg);
    }
    EXPECT_EQ(written, (std::vector<std::pair<std::string, std::string>>{
                           {"/stage/proc/sys/user/max_inotify_instances", "5"},
                           {"/stage/proc/sys/user/max_fanotify_marks", "0"}}));
    for (const char* bad : {"../../fs/x=1", "=1", "max_inotify_instances"}) {
        s.user_limits = {bad};
        const auto r = build_zygote_plan(s, "/stage");
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().step, sys::Step::user_limits);
    }
}

}  // namespace
}  // namespace sbx::sandbox
