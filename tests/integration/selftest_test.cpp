// Self-test on this host: every layer the sandbox uses must be reported active.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "sandbox/cgroup_fs.h"
#include "sandbox/selftest.h"

namespace sbx::sandbox {
namespace {

TEST(Selftest, EveryLayerIsActiveOnThisHost) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (cgroups)";
    CgroupDetectOptions opts;
    opts.prefix = "sbxselftest-" + std::to_string(::getpid());
    auto cg = detect_cgroups(opts);
    const auto checks = run_selftest(cg.get());
    ASSERT_EQ(checks.size(), 5U);
    for (const auto& c : checks) {
        std::printf("%-16s %-3s %s\n", c.name.c_str(), c.active ? "yes" : "NO", c.detail.c_str());
        EXPECT_TRUE(c.active) << c.name << ": " << c.detail << " (fix: " << c.fix << ")";
        EXPECT_EQ(c.fix.empty(), c.active);
    }
    ASSERT_TRUE(cg->cleanup_leftovers());
    // Remove the (empty) prefix directories detection created.
    for (const auto& [ctrl, path] : cgfs::own_cgroups("/proc/self/cgroup")) {
        const auto dir = std::filesystem::path{"/sys/fs/cgroup"} / ctrl /
                         std::filesystem::path{path}.relative_path() / opts.prefix;
        if (!ctrl.empty()) ::rmdir(dir.c_str());
    }
}

}  // namespace
}  // namespace sbx::sandbox
