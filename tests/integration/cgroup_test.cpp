// cgroups on the real hierarchy of this host: create, limits, join by fd, stats, kill, remove.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sandbox/cgroup.h"
#include "sandbox/cgroup_fs.h"

namespace sbx::sandbox {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string slurp(const fs::path& p) {
    std::ifstream in{p};
    std::string s;
    std::getline(in, s);
    return s;
}

// True for a live process; a zombie waiting for a (non-reaping) init counts as dead.
bool alive(pid_t pid) {
    std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
    std::string stat;
    std::getline(in, stat);
    const auto close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z' &&
           stat[close + 2] != 'X';
}

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Child: enters a user namespace (like a run does), joins through the fds, forks a sleeper tree.
[[noreturn]] void child_join_and_sleep(const std::vector<sys::UniqueFd>& fds, int ready_fd) {
    if (::unshare(CLONE_NEWUSER) != 0) ::_exit(10);
    for (const auto& fd : fds) {
        if (::write(fd.get(), "0", 1) != 1) ::_exit(11);
    }
    for (int i = 0; i < 3; ++i) {
        if (::fork() == 0) {
            ::setsid();  // a daemon-like grandchild must die too
            for (;;) ::pause();
        }
    }
    std::vector<char> ballast(8 << 20, 1);  // make the memory peak visible
    if (::write(ready_fd, ballast.data(), 1) != 1) ::_exit(12);
    for (;;) ::pause();
}

// Limits of CgroupLimits{64 MiB, 16 pids, 0.5 cores} as the kernel shows them (v1 or v2).
void expect_limits_written(const std::vector<fs::path>& dirs) {
    for (const auto& d : dirs) {
        if (fs::exists(d / "memory.limit_in_bytes")) {
            EXPECT_EQ(slurp(d / "memory.limit_in_bytes"), "67108864");
            EXPECT_EQ(slurp(d / "memory.swappiness"), "0");
        }
        if (fs::exists(d / "pids.max")) {
            EXPECT_EQ(slurp(d / "pids.max"), "16");
        }
        if (fs::exists(d / "cpu.cfs_quota_us")) {
            EXPECT_EQ(slurp(d / "cpu.cfs_quota_us"), "50000");
        }
        if (fs::exists(d / "memory.max")) {
            EXPECT_EQ(slurp(d / "memory.max"), "67108864");
        }
    }
}

class CgroupRealTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root";
        opts_.prefix = "sbxtest-" + std::to_string(::getpid());
        manager_ = detect_cgroups(opts_);
        if (manager_->version() == CgroupVersion::none) GTEST_SKIP() << manager_->describe();
    }
    void TearDown() override {
        if (!manager_ || manager_->version() == CgroupVersion::none) return;
        ASSERT_TRUE(manager_->cleanup_leftovers());
        for (const auto& base : bases_) {
            EXPECT_EQ(::rmdir(base.c_str()), 0) << base << " not empty";
        }
    }
    void remember_bases(const RunCgroup& run) {
        for (const auto& d : run.dirs()) {
            if (std::find(bases_.begin(), bases_.end(), d.parent_path()) == bases_.end()) {
                bases_.push_back(d.parent_path());
            }
        }
    }
    CgroupDetectOptions opts_;
    std::unique_ptr<CgroupManager> manager_;
    std::vector<fs::path> bases_;
};

TEST_F(CgroupRealTest, CreateLimitJoinStatsKillRemove) {
    std::printf("%s\n", manager_->describe().c_str());
    auto run = manager_->create_run("r1", CgroupLimits{64ULL << 20, 16, 0.5});
    ASSERT_TRUE(run) << run.error().render();
    remember_bases(*run);
    const auto dirs = run->dirs();
    ASSERT_FALSE(dirs.empty());
    expect_limits_written(dirs);
    auto fds = run->open_procs_fds();
    ASSERT_TRUE(fds) << fds.error().render();
    int ready[2];
    ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) child_join_and_sleep(*fds, ready[1]);
    ::close(ready[1]);
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1) << "child failed to join";
    ::close(ready[0]);
    fds->clear();

    const auto procs = cgfs::read_pids(dirs.front() / "cgroup.procs");
    EXPECT_EQ(procs.size(), 4U);
    EXPECT_NE(std::find(procs.begin(), procs.end(), child), procs.end());
    auto stats = run->stats();
    ASSERT_TRUE(stats) << stats.error().render();
    ASSERT_TRUE(stats->memory_peak_bytes.has_value());
    EXPECT_GT(*stats->memory_peak_bytes, 8ULL << 20);
    ASSERT_TRUE(stats->cpu_time.has_value());
    EXPECT_EQ(stats->oom_kills, 0U);

    const auto t0 = Clock::now();
    ASSERT_TRUE(run->kill());
    std::printf("kill of a 4-process tree: %.2f ms\n", ms_since(t0));
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    for (const pid_t p : procs) {
        EXPECT_FALSE(alive(p)) << p;
    }
    ASSERT_TRUE(run->remove());
    for (const auto& d : dirs) EXPECT_FALSE(fs::exists(d)) << d;
}

TEST_F(CgroupRealTest, CleanupLeftoversKillsAndRemoves) {
    auto probe = manager_->create_run("probe", {});
    ASSERT_TRUE(probe) << probe.error().render();
    remember_bases(*probe);
    std::vector<fs::path> leftover;
    for (const auto& d : probe->dirs()) leftover.push_back(d.parent_path() / "crashed-run");
    ASSERT_TRUE(probe->remove());
    for (const auto& d : leftover) ASSERT_EQ(::mkdir(d.c_str(), 0755), 0) << d;
    const pid_t sleeper = ::fork();
    if (sleeper == 0) {
        for (;;) ::pause();
    }
    for (const auto& d : leftover) {
        std::ofstream{d / "cgroup.procs"} << sleeper;
    }
    ASSERT_TRUE(manager_->cleanup_leftovers());
    int status = 0;
    EXPECT_EQ(::waitpid(sleeper, &status, 0), sleeper);
    EXPECT_TRUE(WIFSIGNALED(status));
    for (const auto& d : leftover) EXPECT_FALSE(fs::exists(d)) << d;
}

TEST_F(CgroupRealTest, CostOfCreateAttachRemove) {
    constexpr int kRounds = 30;
    double create_ms = 0;
    double attach_ms = 0;
    double remove_ms = 0;
    for (int i = 0; i < kRounds; ++i) {
        auto t0 = Clock::now();
        auto run = manager_->create_run("cost" + std::to_string(i), {});
        create_ms += ms_since(t0);
        ASSERT_TRUE(run) << run.error().render();
        if (i == 0) remember_bases(*run);
        t0 = Clock::now();
        auto fds = run->open_procs_fds();
        ASSERT_TRUE(fds);
        const pid_t child = ::fork();
        if (child == 0) {
            for (const auto& fd : *fds) {
                if (::write(fd.get(), "0", 1) != 1) ::_exit(1);
            }
            ::_exit(0);
        }
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        ASSERT_EQ(status, 0);
        fds->clear();
        attach_ms += ms_since(t0);
        t0 = Clock::now();
        ASSERT_TRUE(run->remove());
        remove_ms += ms_since(t0);
    }
    std::printf("cgroup create: %.3f ms; fork+attach+exit: %.3f ms; remove: %.3f ms (mean of %d)\n",
                create_ms / kRounds, attach_ms / kRounds, remove_ms / kRounds, kRounds);
}

}  // namespace
}  // namespace sbx::sandbox
