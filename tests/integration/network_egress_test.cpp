// Egress against the real kernel: the nft table, and slirp4netns attached to a namespace.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <gtest/gtest.h>
#include <string>

#include "network/egress.h"
#include "network/firewall.h"
#include "sandbox/cgroup.h"
#include "sys/pidfd.h"
#include "sys/scope_exit.h"

namespace sbx::network {
namespace {

std::string command_output(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
    return out;
}

bool table_exists(const std::string& name) {
    return command_output("nft list tables 2>/dev/null").find("table inet " + name + "\n") != std::string::npos;
}

EgressRules test_rules() {
    config::Config cfg;
    cfg.sandbox_uid_base = 2500000;
    cfg.cgroup_prefix = "itest";
    cfg.network_allow = {"10.0.0.7:443", "fd00::/8"};
    auto r = rules_from_config(cfg, "nameserver 10.255.255.53\n");
    EXPECT_TRUE(r);
    return *r;
}

TEST(NetworkFirewall, KernelTakesTheTableAndItGoesWithTheOwner) {
    const auto rules = test_rules();
    // What a killed server left: a table of the same name, with a chain of its own.
    ASSERT_TRUE(run_nft("add table inet " + rules.table + "\nadd chain inet " + rules.table + " stale\n"));
    {
        auto fw = Firewall::install(rules);
        ASSERT_TRUE(fw) << fw.error().render();
        const auto listing = command_output("nft list table inet " + rules.table);
        EXPECT_EQ(listing.find("chain stale"), std::string::npos) << "leftover not replaced";
        EXPECT_NE(listing.find("hook output"), std::string::npos) << listing;
        Firewall owner = std::move(*fw);  // the moved-from one must not delete it
        EXPECT_TRUE(table_exists(rules.table));
    }
    EXPECT_FALSE(table_exists(rules.table));
}

TEST(NetworkFirewall, NftErrorsCarryNftsMessage) {
    auto bad = run_nft("add rule inet no_such_table_here out accept\n");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().step, sys::Step::firewall);
    EXPECT_FALSE(bad.error().detail.empty());
}

// A child in a network namespace of its own, waiting until killed.
struct NetnsChild {
    pid_t pid = -1;
    sys::UniqueFd pidfd;
    NetnsChild() {
        int p[2];
        EXPECT_EQ(::pipe(p), 0);
        pid = ::fork();
        if (pid == 0) {
            if (::unshare(CLONE_NEWNET) != 0) ::_exit(1);
            ::close(p[0]);
            (void)!::write(p[1], "x", 1);
            ::pause();
            ::_exit(0);
        }
        ::close(p[1]);
        char c = 0;
        EXPECT_EQ(::read(p[0], &c, 1), 1);
        ::close(p[0]);
        pidfd = std::move(*sys::open_pidfd(pid));
    }
    ~NetnsChild() {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
};

bool wait_readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
}

TEST(NetworkSlirpLink, ConfiguresTapInTheRunsNamespaceAndGoesAway) {
    if (::access("/usr/bin/slirp4netns", X_OK) != 0) GTEST_SKIP() << "slirp4netns not installed";
    auto pool = std::make_shared<GidPool>(2504096, 2);
    NetnsChild child;
    pid_t slirp_pid = -1;
    {
        auto link = SlirpLink::start(SlirpOptions{}, child.pidfd.get(), std::move(*pool->acquire()));
        ASSERT_TRUE(link) << link.error().render();
        EXPECT_EQ(pool->available(), 1U);
        ASSERT_TRUE(wait_readable(link->ready_fd(), 5000));
        char c = 0;
        ASSERT_EQ(::read(link->ready_fd(), &c, 1), 1) << link->failure();
        slirp_pid = link->pid();
        const auto addrs = command_output("nsenter -t " + std::to_string(child.pid) + " -n ip -4 addr show tap0");
        EXPECT_NE(addrs.find("10.0.2.100/24"), std::string::npos) << addrs;
        const auto status = command_output("grep -E '^(Uid|Gid|Groups|CapEff):' /proc/" + std::to_string(slirp_pid) + "/status");
        EXPECT_NE(status.find("Gid:\t2504096\t2504096\t2504096\t2504096"), std::string::npos) << status;
        const auto groups = status.substr(status.find("Groups:") + 7, status.find("CapEff:") - status.find("Groups:") - 7);
        EXPECT_EQ(groups.find_first_not_of(" \t\n"), std::string::npos) << status;  // none
        EXPECT_NE(status.find("CapEff:\t0000000000000400"), std::string::npos) << status;  // bind only
    }
    EXPECT_NE(::kill(slirp_pid, 0), 0);  // killed and reaped
    EXPECT_EQ(pool->available(), 2U);    // its gid is back
}

TEST(NetworkSlirpLink, WithAReaperTheDestructorDoesNotWaitAndTheGidReturnsAfterTheExit) {
    if (::access("/usr/bin/slirp4netns", X_OK) != 0) GTEST_SKIP() << "slirp4netns not installed";
    auto pool = std::make_shared<GidPool>(2504096, 1);
    auto reaper = std::make_shared<LinkReaper>();
    NetnsChild child;
    pid_t slirp_pid = -1;
    {
        auto link = SlirpLink::start(SlirpOptions{}, child.pidfd.get(), std::move(*pool->acquire()), reaper);
        ASSERT_TRUE(link) << link.error().render();
        ASSERT_TRUE(wait_readable(link->ready_fd(), 5000));
        slirp_pid = link->pid();
        EXPECT_EQ(pool->available(), 0U);
    }
    // Killed, and either still dying (held by the reaper, gid not yet free) or reaped.
    for (int i = 0; i < 200 && pool->available() == 0; ++i) ::usleep(10000);
    EXPECT_EQ(pool->available(), 1U);
    EXPECT_EQ(reaper->pending(), 0U);
    EXPECT_NE(::kill(slirp_pid, 0), 0);  // reaped: no zombie left either
}

TEST(NetworkSlirpLink, ANamespaceThatIsGoneGivesEofAndTheFailingStep) {
    if (::access("/usr/bin/slirp4netns", X_OK) != 0) GTEST_SKIP() << "slirp4netns not installed";
    auto pool = std::make_shared<GidPool>(2504096, 1);
    sys::UniqueFd dead_pidfd;
    {
        NetnsChild child;
        dead_pidfd = sys::UniqueFd{::fcntl(child.pidfd.get(), F_DUPFD_CLOEXEC, 0)};
    }
    auto link = SlirpLink::start(SlirpOptions{}, dead_pidfd.get(), std::move(*pool->acquire()));
    ASSERT_TRUE(link) << link.error().render();
    ASSERT_TRUE(wait_readable(link->ready_fd(), 5000));
    char c = 0;
    EXPECT_EQ(::read(link->ready_fd(), &c, 1), 0);  // EOF: never ready
    EXPECT_NE(link->failure().find("setns into the run's network namespace"), std::string::npos);
}

// The stack joins the run's cgroups before it execs: it is limited and counted with the run,
// and killing the group kills it.
TEST(NetworkSlirpLink, RunsInTheRunsCgroupsAndDiesWithThem) {
    if (::access("/usr/bin/slirp4netns", X_OK) != 0) GTEST_SKIP() << "slirp4netns not installed";
    sandbox::CgroupDetectOptions opts;
    opts.prefix = "itest-egress-" + std::to_string(::getpid());
    auto cgroups = sandbox::detect_cgroups(opts);
    if (cgroups->version() == sandbox::CgroupVersion::none) GTEST_SKIP() << cgroups->describe();
    auto group = cgroups->create_run("r1", sandbox::CgroupLimits{64 << 20, 8, 0.5});
    ASSERT_TRUE(group) << group.error().render();
    auto pool = std::make_shared<GidPool>(2504096, 1);
    NetnsChild child;
    std::vector<int> join;
    auto fds = group->open_procs_fds();
    ASSERT_TRUE(fds) << fds.error().render();
    for (const auto& fd : *fds) join.push_back(fd.get());
    auto link = SlirpLink::start(SlirpOptions{}, child.pidfd.get(), std::move(*pool->acquire()),
                                 nullptr, join);
    ASSERT_TRUE(link) << link.error().render();
    fds->clear();
    ASSERT_TRUE(wait_readable(link->ready_fd(), 5000));
    char c = 0;
    ASSERT_EQ(::read(link->ready_fd(), &c, 1), 1) << link->failure();
    const auto members = group->members();
    EXPECT_NE(std::find(members.begin(), members.end(), link->pid()), members.end());
    // In every hierarchy of the run (v1: memory, pids, cpu, cpuacct, freezer; v2: one).
    const auto own = command_output("cat /proc/" + std::to_string(link->pid()) + "/cgroup");
    std::size_t in_run = 0;
    for (std::size_t at = own.find(opts.prefix + "/r1\n"); at != std::string::npos;
         at = own.find(opts.prefix + "/r1\n", at + 1)) {
        ++in_run;
    }
    EXPECT_EQ(in_run, group->dirs().size()) << own;
    ASSERT_TRUE(group->kill());
    EXPECT_TRUE(wait_readable(link->pidfd(), 2000));  // exited with its group
    EXPECT_FALSE(link->alive());
    EXPECT_TRUE(group->remove());
}

bool mounted(const std::string& path) {
    return command_output("cat /proc/self/mountinfo").find(" " + path + " ") != std::string::npos;
}

// slirp4netns sandboxes itself (--enable-sandbox) by detaching its old root, which propagates
// to shared mounts of the mount namespace it starts in: in the host's, that unmounted every
// `ip netns` name under the shared /run/netns. It starts in a private one instead.
TEST(NetworkSlirpLink, LeavesTheHostsSharedMountsAlone) {
    if (::access("/usr/bin/slirp4netns", X_OK) != 0) GTEST_SKIP() << "slirp4netns not installed";
    const std::string name = "sbxitest" + std::to_string(::getpid());
    ASSERT_EQ(std::system(("ip netns add " + name).c_str()), 0);  // /run/netns: a shared mount
    sys::ScopeExit remove{[&] { EXPECT_EQ(std::system(("ip netns del " + name).c_str()), 0); }};
    ASSERT_TRUE(mounted("/run/netns/" + name));
    auto pool = std::make_shared<GidPool>(2504096, 1);
    {
        NetnsChild child;
        auto link =
            SlirpLink::start(SlirpOptions{}, child.pidfd.get(), std::move(*pool->acquire()));
        ASSERT_TRUE(link) << link.error().render();
        ASSERT_TRUE(wait_readable(link->ready_fd(), 5000));
        char c = 0;
        ASSERT_EQ(::read(link->ready_fd(), &c, 1), 1) << link->failure();
        EXPECT_TRUE(mounted("/run/netns/" + name));
    }
}

}  // namespace
}  // namespace sbx::network
