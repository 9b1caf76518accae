// cgroup v1/v2/none backends against fake hierarchies in a temp dir (no root needed).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "network/slirp_link.h"
#include "sandbox/cgroup.h"
#include "sandbox/cgroup_fs.h"

namespace sbx::sandbox {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
    std::ifstream in{p};
    return {std::istreambuf_iterator<char>{in}, {}};
}
void put(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream{p} << text;
}
// Stands in for the kernel: control files vanish with the directory on cgroupfs.
void drop_files(const std::vector<fs::path>& dirs) {
    for (const auto& d : dirs) {
        for (const auto& e : fs::directory_iterator{d}) fs::remove(e.path());
    }
}

class FakeCgroupTest : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("sbx-cgfake-" + std::to_string(::getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()
                                                 ->current_test_info()->name());
        fs::remove_all(root_);
        fs::create_directories(root_);
        opts_.mount_root = root_ / "cg";
        opts_.self_cgroup = root_ / "self_cgroup";
        opts_.prefix = "pfx";
        opts_.kernel_cmdline = root_ / "cmdline";
        put(opts_.kernel_cmdline, "BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro\n");
    }
    void TearDown() override { fs::remove_all(root_); }

    void make_v1_tree() {
        put(opts_.self_cgroup, "9:freezer:/\n8:pids:/\n4:memory:/own\n2:cpu,cpuacct:/\n0::/\n");
        for (const char* c : {"memory", "pids", "cpu,cpuacct", "freezer"}) {
            put(opts_.mount_root / c / "cgroup.procs", "");
        }
        fs::create_directories(opts_.mount_root / "memory/own");
        fs::create_symlink("cpu,cpuacct", opts_.mount_root / "cpu");
        fs::create_symlink("cpu,cpuacct", opts_.mount_root / "cpuacct");
    }
    // A cgroup2 root with the controllers we need; this process in /svc holding `procs`.
    void make_v2_tree(const std::string& controllers, const std::string& procs) {
        put(opts_.mount_root / "cgroup.controllers", controllers);
        put(opts_.self_cgroup, "0::/svc\n");
        put(opts_.mount_root / "svc/cgroup.procs", procs);
    }
    fs::path root_;
    CgroupDetectOptions opts_;
};

TEST_F(FakeCgroupTest, V1CreateWritesLimitsStatsAndRemoves) {
    make_v1_tree();
    put(opts_.mount_root / "memory/own/pfx/memory.memsw.limit_in_bytes", "");
    auto m = detect_cgroups(opts_);
    ASSERT_EQ(m->version(), CgroupVersion::v1) << m->describe();
    auto run = m->create_run("r1", CgroupLimits{1 << 20, 7, 1.5});
    ASSERT_TRUE(run) << run.error().render();
    const fs::path mem = opts_.mount_root / "memory/own/pfx/r1";
    const fs::path cpu = opts_.mount_root / "cpu/pfx/r1";
    EXPECT_EQ(slurp(mem / "memory.limit_in_bytes"), "1048576");
    EXPECT_EQ(slurp(mem / "memory.memsw.limit_in_bytes"), "1048576");
    EXPECT_EQ(slurp(mem / "memory.swappiness"), "0");
    EXPECT_EQ(slurp(opts_.mount_root / "pids/pfx/r1/pids.max"), "7");
    EXPECT_EQ(slurp(cpu / "cpu.cfs_period_us"), "100000");
    EXPECT_EQ(slurp(cpu / "cpu.cfs_quota_us"), "150000");
    const auto dirs = run->dirs();
    EXPECT_EQ(dirs.size(), 4U);  // memory, pids, cpu+cpuacct (co-mounted), freezer

    put(mem / "memory.max_usage_in_bytes", "12345\n");
    put(cpu / "cpuacct.usage", "5000000\n");
    put(mem / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    auto st = run->stats();
    ASSERT_TRUE(st) << st.error().render();
    EXPECT_EQ(st->memory_peak_bytes, 12345U);
    EXPECT_EQ(st->cpu_time, std::chrono::microseconds{5000});
    EXPECT_EQ(st->oom_kills, 2U);

    for (const auto& d : dirs) put(d / "cgroup.procs", "");
    auto fds = run->open_procs_fds();
    ASSERT_TRUE(fds) << fds.error().render();
    EXPECT_EQ(fds->size(), 4U);
    drop_files(dirs);
    ASSERT_TRUE(run->remove());
    for (const auto& d : dirs) EXPECT_FALSE(fs::exists(d)) << d;
}

TEST_F(FakeCgroupTest, V1RejectsBadRunIdsAndCleansLeftovers) {
    make_v1_tree();
    auto m = detect_cgroups(opts_);
    ASSERT_EQ(m->version(), CgroupVersion::v1);
    auto bad = m->create_run("../escape", {});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().step, sys::Step::cgroup_create);
    EXPECT_EQ(bad.error().err, EINVAL);
    fs::create_directories(opts_.mount_root / "memory/own/pfx/old-run");
    fs::create_directories(opts_.mount_root / "pids/pfx/old-run");
    ASSERT_TRUE(m->cleanup_leftovers());
    EXPECT_FALSE(fs::exists(opts_.mount_root / "memory/own/pfx/old-run"));
    EXPECT_FALSE(fs::exists(opts_.mount_root / "pids/pfx/old-run"));
}

// Another server with the same CGROUP_PREFIX removes the (then empty) prefix directories when
// it exits: this server's next run makes them again instead of failing at cgroup_create.
TEST_F(FakeCgroupTest, PrefixDirectoryRemovedByAnotherServerIsMadeAgain) {
    make_v1_tree();
    auto m = detect_cgroups(opts_);
    ASSERT_EQ(m->version(), CgroupVersion::v1);
    fs::remove(opts_.mount_root / "memory/own/pfx");
    fs::remove(opts_.mount_root / "pids/pfx");
    auto run = m->create_run("r1", CgroupLimits{1 << 20, 7, 1.0});
    ASSERT_TRUE(run) << run.error().render();
    EXPECT_EQ(slurp(opts_.mount_root / "pids/pfx/r1/pids.max"), "7");

    put(opts_.mount_root / "cgroup.controllers", "cpu memory pids\n");
    put(opts_.self_cgroup, "0::/svc\n");
    put(opts_.mount_root / "svc/cgroup.procs", "");
    opts_.prefix = "pfx2";
    auto v2 = detect_cgroups(opts_);
    ASSERT_EQ(v2->version(), CgroupVersion::v2) << v2->describe();
    fs::remove_all(opts_.mount_root / "svc/pfx2");
    auto run2 = v2->create_run("r2", CgroupLimits{2 << 20, 9, 0.5});
    ASSERT_TRUE(run2) << run2.error().render();
    EXPECT_EQ(slurp(opts_.mount_root / "svc/pfx2/cgroup.subtree_control"), "+memory +pids +cpu");
    EXPECT_EQ(slurp(opts_.mount_root / "svc/pfx2/r2/pids.max"), "9");
}

TEST_F(FakeCgroupTest, V2DelegatesCreatesLimitsStatsAndRemoves) {
    make_v2_tree("cpuset cpu io memory hugetlb pids rdma\n", "123\n");
    auto m = detect_cgroups(opts_);
    ASSERT_EQ(m->version(), CgroupVersion::v2) << m->describe();
    // The server left its non-root cgroup for a leaf so controllers can be enabled below it.
    EXPECT_EQ(slurp(opts_.mount_root / "svc/pfx-server/cgroup.procs"), "123");
    EXPECT_EQ(slurp(opts_.mount_root / "svc/cgroup.subtree_control"), "+memory +pids +cpu");
    EXPECT_EQ(slurp(opts_.mount_root / "svc/pfx/cgroup.subtree_control"), "+memory +pids +cpu");

    auto run = m->create_run("r1", CgroupLimits{2 << 20, 9, 0.25});
    ASSERT_TRUE(run) << run.error().render();
    const fs::path dir = opts_.mount_root / "svc/pfx/r1";
    EXPECT_EQ(slurp(dir / "memory.max"), "2097152");
    EXPECT_EQ(slurp(dir / "pids.max"), "9");
    EXPECT_EQ(slurp(dir / "cpu.max"), "25000 100000");
    EXPECT_FALSE(fs::exists(dir / "memory.swap.max"));  // only written when the kernel has it

    put(dir / "memory.peak", "777\n");
    put(dir / "cpu.stat", "usage_usec 4242\nuser_usec 4000\nsystem_usec 242\n");
    put(dir / "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n");
    auto st = run->stats();
    ASSERT_TRUE(st) << st.error().render();
    EXPECT_EQ(st->memory_peak_bytes, 777U);
    EXPECT_EQ(st->cpu_time, std::chrono::microseconds{4242});
    EXPECT_EQ(st->oom_kills, 1U);

    put(dir / "cgroup.procs", "");
    auto fds = run->open_procs_fds();
    ASSERT_TRUE(fds);
    EXPECT_EQ(fds->size(), 1U);
    drop_files({dir});
    ASSERT_TRUE(run->remove());
    EXPECT_FALSE(fs::exists(dir));
}

// A run's network stack (network::SlirpLink) joins the run's group before it execs, through
// the same cgroup.procs fds the run itself gets: one per v1 hierarchy, one on v2.
std::vector<std::string> join_as_a_link(const CgroupDetectOptions& opts) {
    auto m = detect_cgroups(opts);
    EXPECT_NE(m->version(), CgroupVersion::none) << m->describe();
    auto run = m->create_run("r1", CgroupLimits{});
    EXPECT_TRUE(run) << run.error().render();
    for (const auto& d : run->dirs()) put(d / "cgroup.procs", "");
    auto fds = run->open_procs_fds();
    EXPECT_TRUE(fds) << fds.error().render();
    std::vector<int> raw;
    for (const auto& fd : *fds) raw.push_back(fd.get());
    EXPECT_TRUE(network::child_join_cgroups(raw));
    std::vector<std::string> got;
    for (const auto& d : run->dirs()) got.push_back(slurp(d / "cgroup.procs"));
    drop_files(run->dirs());  // before remove(): a fake "0" is no member to kill
    EXPECT_TRUE(run->remove());
    return got;
}

TEST_F(FakeCgroupTest, ANetworkStackJoinsEveryV1HierarchyOfItsRun) {
    make_v1_tree();
    // memory, pids, cpu+cpuacct, freezer: limited, counted and frozen with the run.
    EXPECT_EQ(join_as_a_link(opts_), (std::vector<std::string>(4, "0")));
}

TEST_F(FakeCgroupTest, ANetworkStackJoinsItsV2RunGroup) {
    put(opts_.mount_root / "cgroup.controllers", "cpu memory pids\n");
    put(opts_.self_cgroup, "0::/svc\n");
    put(opts_.mount_root / "svc/cgroup.procs", "");
    EXPECT_EQ(join_as_a_link(opts_), (std::vector<std::string>{"0"}));
}

TEST(ChildJoinCgroups, AFailedWriteIsReportedAndNoGroupIsNothingToDo) {
    EXPECT_TRUE(network::child_join_cgroups({}));
    const sys::UniqueFd ro{::open("/dev/null", O_RDONLY | O_CLOEXEC)};
    ASSERT_TRUE(ro);
    const std::vector<int> fds{ro.get()};
    EXPECT_FALSE(network::child_join_cgroups(fds));
}

TEST_F(FakeCgroupTest, V2WithoutControllersAndNoV1FallsBackToNone) {
    put(opts_.mount_root / "cgroup.controllers", "\n");  // a hybrid's empty unified mount
    put(opts_.self_cgroup, "0::/\n");
    auto m = detect_cgroups(opts_);
    ASSERT_EQ(m->version(), CgroupVersion::none);
    EXPECT_NE(m->describe().find("rlimits"), std::string::npos) << m->describe();
    auto run = m->create_run("r1", {});
    ASSERT_TRUE(run);
    EXPECT_FALSE(run->active());
    auto fds = run->open_procs_fds();
    ASSERT_TRUE(fds);
    EXPECT_TRUE(fds->empty());
    auto st = run->stats();
    ASSERT_TRUE(st);
    EXPECT_FALSE(st->memory_peak_bytes.has_value());
}

}  // namespace
}  // namespace sbx::sandbox

namespace sbx::sandbox {
namespace {

TEST(OwnedByLiveServer, SparesOnlyGroupsOfOtherLiveServers) {
    EXPECT_TRUE(cgfs::owned_by_live_server("p1-r3"));  // pid 1 is always alive
    EXPECT_FALSE(cgfs::owned_by_live_server("p" + std::to_string(::getpid()) + "-r3"));  // ours: stale
    EXPECT_FALSE(cgfs::owned_by_live_server("p999999999-r3"));  // no such process
    EXPECT_FALSE(cgfs::owned_by_live_server("r3"));             // old naming: a leftover
    EXPECT_FALSE(cgfs::owned_by_live_server("p-r3"));
    EXPECT_FALSE(cgfs::owned_by_live_server("px1-r3"));
}

}  // namespace
}  // namespace sbx::sandbox

namespace sbx::sandbox {
namespace {

// v1 counts a run's socket buffers only once its kmem.tcp limit is set, and then apart from
// memory.limit_in_bytes: the limit is written with the run's socket budget.
TEST_F(FakeCgroupTest, V1LimitsSocketMemoryWhereTheKernelCountsIt) {
    make_v1_tree();
    put(opts_.mount_root / "memory/own/pfx/memory.kmem.tcp.limit_in_bytes", "");
    auto m = detect_cgroups(opts_);
    ASSERT_EQ(m->version(), CgroupVersion::v1);
    EXPECT_TRUE(m->socket_accounting().charged) << m->socket_accounting().detail;
    auto run = m->create_run("r1", CgroupLimits{1 << 20, 7, 1.0, 3 << 20});
    ASSERT_TRUE(run) << run.error().render();
    EXPECT_EQ(slurp(opts_.mount_root / "memory/own/pfx/r1/memory.kmem.tcp.limit_in_bytes"),
              "3145728");

    fs::remove(opts_.mount_root / "memory/own/pfx/memory.kmem.tcp.limit_in_bytes");
    auto without = detect_cgroups(opts_);
    EXPECT_FALSE(without->socket_accounting().charged);
    auto run2 = without->create_run("r2", CgroupLimits{1 << 20, 7, 1.0, 3 << 20});
    ASSERT_TRUE(run2) << run2.error().render();
    EXPECT_FALSE(fs::exists(opts_.mount_root / "memory/own/pfx/r2/memory.kmem.tcp.limit_in_bytes"));
}

// v2 charges socket buffers to memory.current (limited by memory.max) unless the host was
// booted with cgroup.memory=nosocket; there is no separate file to write.
TEST_F(FakeCgroupTest, V2ChargesSocketMemoryUnlessBootedWithNosocket) {
    make_v2_tree("cpu memory pids\n", "");
    auto m = detect_cgroups(opts_);
    ASSERT_EQ(m->version(), CgroupVersion::v2) << m->describe();
    EXPECT_TRUE(m->socket_accounting().charged) << m->socket_accounting().detail;
    auto run = m->create_run("r1", CgroupLimits{2 << 20, 9, 0.5, 1 << 20});
    ASSERT_TRUE(run) << run.error().render();
    const fs::path dir = opts_.mount_root / "svc/pfx/r1";
    EXPECT_EQ(slurp(dir / "memory.max"), "2097152");  // sockets included
    for (const auto& e : fs::directory_iterator{dir}) {
        EXPECT_EQ(e.path().filename().string().find("kmem"), std::string::npos) << e.path();
    }
    for (const char* cmdline : {"ro cgroup.memory=nosocket\n", "cgroup.memory=nokmem,nosocket quiet\n"}) {
        put(opts_.kernel_cmdline, cmdline);
        EXPECT_FALSE(detect_cgroups(opts_)->socket_accounting().charged) << cmdline;
    }
    put(opts_.kernel_cmdline, "cgroup.memory=nokmem\n");
    EXPECT_TRUE(detect_cgroups(opts_)->socket_accounting().charged);
}

TEST(NoCgroups, SocketMemoryIsNotCharged) {
    CgroupDetectOptions o;
    o.mount_root = "/nonexistent-sbx-cgroup-root";
    o.self_cgroup = "/nonexistent-sbx-self-cgroup";
    auto m = detect_cgroups(o);
    ASSERT_EQ(m->version(), CgroupVersion::none);
    EXPECT_FALSE(m->socket_accounting().charged);
}

}  // namespace
}  // namespace sbx::sandbox
