// Spawner + zygote base sandbox against the real kernel: what the zygote sees, errors, cleanup.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <algorithm>
#include <atomic>
#include <thread>
#include <chrono>
#include <vector>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "sandbox/seccomp_policy.h"
#include "sandbox/spawner.h"
#include "sys/pidfd.h"
#include "sys/unique_fd.h"

namespace sbx::sandbox {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::size_t count_open_fds() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator{"/proc/self/fd"}) ++n;
    return n;
}

bool wait_readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
}

ZygoteSpec probe_spec() {
    ZygoteSpec spec;
    spec.mode = "cold";
    spec.preload = {"json", "socket"};
    spec.runtime_dir = SBX_FIXTURES_DIR;
    spec.script = "zygote_probe.py";
    spec.uid_base = 1'500'000;
    spec.extra_env = {"PYSANDBOX_TEST=1"};
    return spec;
}

class SpawnerTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (user namespace id maps)";
        fds_before_ = count_open_fds();
    }
    // Starts a spawner, spawns the probe, returns its report (and keeps the zygote in zygote_).
    json::object spawn_probe(ZygoteSpec spec = probe_spec()) {
        auto client = Spawner::start({});
        EXPECT_TRUE(client) << client.error().render();
        if (!client) return {};
        client_.emplace(std::move(*client));
        auto z = client_->spawn_zygote(std::move(spec));
        EXPECT_TRUE(z) << z.error().render();
        if (!z) return {};
        zygote_ = std::move(*z);
        EXPECT_TRUE(wait_readable(zygote_.control.get(), 10'000)) << "no report from the probe";
        std::string buf(65536, '\0');
        const auto n = ::recv(zygote_.control.get(), buf.data(), buf.size(), MSG_DONTWAIT);
        EXPECT_GT(n, 0);
        buf.resize(static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
        return n > 0 ? json::parse(buf).as_object() : json::object{};
    }
    std::size_t fds_before_ = 0;
    std::optional<SpawnerClient> client_;
    ZygoteHandle zygote_;
};

TEST_F(SpawnerTest, ZygoteIsRootOfItsOwnNamespacesOnly) {
    const auto r = spawn_probe();
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(r.at("uid").as_int64(), 0);
    EXPECT_EQ(r.at("gid").as_int64(), 0);
    EXPECT_EQ(r.at("pid").as_int64(), 1);
    EXPECT_EQ(json::serialize(r.at("proc_pids")), "[1]");  // no host processes
    EXPECT_EQ(r.at("hostname").as_string(), "sandbox");
    EXPECT_EQ(json::serialize(r.at("fds")), "[0,1,2,3,4,5]");  // 5: listdir's own fd
    EXPECT_EQ(r.at("cwd").as_string(), "/");
    EXPECT_EQ(r.at("seccomp_size").as_int64(), 0);  // no filter given: an empty memfd
    EXPECT_EQ(r.at("uid_map").as_string(), r.at("gid_map").as_string());
    const auto uid_map = std::string{r.at("uid_map").as_string()};
    EXPECT_NE(uid_map.find("0    1500000          1"), std::string::npos) << uid_map;
    EXPECT_NE(uid_map.find("1000    1500001          1"), std::string::npos) << uid_map;
    EXPECT_EQ(r.at("nested_mounts").as_string(), "ok");  // runs can mount /work and /proc
}

// The zygote's user namespace belongs to its own host uid, not root: the per-user quotas of
// everything inside are charged to that uid one level up. Its /proc/sys/user limits are those
// of the spec, and it maps one uid per run.
TEST_F(SpawnerTest, NamespaceIsOwnedByTheZygoteUidWithPerRunUidsAndLimits) {
    auto spec = probe_spec();
    spec.uid_count = 3;
    spec.user_limits = {"max_inotify_instances=2", "max_fanotify_groups=0"};
    const auto r = spawn_probe(std::move(spec));
    ASSERT_FALSE(r.empty());
    const auto uid_map = std::string{r.at("uid_map").as_string()};
    EXPECT_NE(uid_map.find("1000    1500001          3"), std::string::npos) << uid_map;
    EXPECT_EQ(r.at("user_limits").at("max_inotify_instances").as_string(), "2");
    EXPECT_EQ(r.at("user_limits").at("max_fanotify_groups").as_string(), "0");
    const std::string ns = "/proc/" + std::to_string(zygote_.pid) + "/ns/user";
    const sys::UniqueFd fd{::open(ns.c_str(), O_RDONLY | O_CLOEXEC)};
    ASSERT_TRUE(fd) << ns;
    uid_t owner = 0;
    ASSERT_EQ(::ioctl(fd.get(), NS_GET_OWNER_UID, &owner), 0) << ns;
    EXPECT_EQ(owner, 1'500'000U);
}

TEST_F(SpawnerTest, RootIsReadOnlyAllowListWithoutSecrets) {
    const auto r = spawn_probe();
    ASSERT_FALSE(r.empty());
    EXPECT_FALSE(r.at("shadow_exists").as_bool());
    EXPECT_EQ(r.at("root_write_errno").as_int64(), EROFS);
    EXPECT_EQ(r.at("usr_write_errno").as_int64(), EROFS);
    EXPECT_EQ(r.at("tmp_write_errno").as_int64(), 0);
    EXPECT_TRUE(r.at("dev_null_writable").as_bool());
    EXPECT_NE(std::string{r.at("passwd").as_string()}.find("sandbox:x:1000:1000"),
              std::string::npos);
    EXPECT_EQ(
        json::serialize(r.at("root_entries")),
        R"(["bin","dev","etc","lib","lib32","lib64","opt","proc","sbin","tmp","usr","work"])");
    EXPECT_EQ(json::serialize(r.at("dev_entries")),
              R"(["fd","full","null","random","shm","stderr","stdin","stdout","urandom","zero"])");
    for (const auto& [point, options] : r.at("mounts").as_object()) {
        const std::string opts{options.as_string()};
        EXPECT_NE(opts.find("nosuid"), std::string::npos) << point << " " << opts;
        const bool writable = point == "/tmp" || std::string_view{point}.starts_with("/dev/");
        if (!writable && point != "/proc") {
            EXPECT_TRUE(opts.starts_with("ro")) << point << " " << opts;
        }
    }
    const auto etc = json::serialize(r.at("etc_entries"));
    for (const char* secret : {"shadow", "gshadow", "sudoers", "ssh"}) {
        EXPECT_EQ(etc.find(std::string{"\""} + secret + "\""), std::string::npos) << etc;
    }
    EXPECT_NE(etc.find("\"ld.so.cache\""), std::string::npos) << etc;
    EXPECT_NE(etc.find("\"ssl\""), std::string::npos) << etc;
}

TEST_F(SpawnerTest, EnvironmentIsExactlyTheDocumentedOne) {
    const auto r = spawn_probe();
    ASSERT_FALSE(r.empty());
    const json::object expected_env{
        {"PYSANDBOX_MODE", "cold"}, {"PYSANDBOX_PRELOAD", "json,socket"},
        {"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"LANG", "C.UTF-8"}, {"HOME", "/tmp"},
        {"MPLBACKEND", "Agg"}, {"MPLCONFIGDIR", "/tmp/.matplotlib"},
        {"OPENBLAS_NUM_THREADS", "1"}, {"OMP_NUM_THREADS", "1"}, {"MKL_NUM_THREADS", "1"},
        {"NUMEXPR_NUM_THREADS", "1"}, {"PYSANDBOX_TEST", "1"}};
    EXPECT_EQ(r.at("env").as_object(), expected_env) << json::serialize(r.at("env"));
}

TEST_F(SpawnerTest, ExitedZygoteIsReapedAndLeavesNoFds) {
    ASSERT_FALSE(spawn_probe().empty());
    const pid_t host_pid = zygote_.pid;
    zygote_.control.reset();  // EOF: the probe exits; the spawner reaps it
    ASSERT_TRUE(wait_readable(zygote_.pidfd.get(), 5'000)) << "zygote did not exit";
    zygote_.pidfd.reset();
    for (int i = 0; i < 100 && fs::exists("/proc/" + std::to_string(host_pid)); ++i) {
        ::usleep(10'000);
    }
    EXPECT_FALSE(fs::exists("/proc/" + std::to_string(host_pid))) << "zygote not reaped";
    client_.reset();
    EXPECT_EQ(count_open_fds(), fds_before_);
}

TEST_F(SpawnerTest, SeccompFilterMemfdArrivesAsFdFour) {
    auto client = Spawner::start({});
    ASSERT_TRUE(client) << client.error().render();
    auto filter = build_run_filter();
    ASSERT_TRUE(filter) << filter.error().render();
    auto memfd = filter_memfd(*filter);
    ASSERT_TRUE(memfd) << memfd.error().render();
    auto spec = probe_spec();
    spec.seccomp_memfd = std::move(*memfd);
    auto z = client->spawn_zygote(std::move(spec));
    ASSERT_TRUE(z) << z.error().render();
    ASSERT_TRUE(wait_readable(z->control.get(), 10'000));
    std::string buf(65536, '\0');
    const auto n = ::recv(z->control.get(), buf.data(), buf.size(), 0);
    ASSERT_GT(n, 0);
    buf.resize(static_cast<std::size_t>(n));
    EXPECT_EQ(json::parse(buf).at("seccomp_size").as_int64(),
              static_cast<std::int64_t>(filter->size() * sizeof(sock_filter)));
}

TEST_F(SpawnerTest, BadPythonPathNamesTheExecveStep) {
    auto client = Spawner::start({});
    ASSERT_TRUE(client) << client.error().render();
    auto spec = probe_spec();
    spec.python = "/usr/bin/no-such-python";
    auto z = client->spawn_zygote(std::move(spec));
    ASSERT_FALSE(z);
    EXPECT_EQ(z.error().step, sys::Step::execve);
    EXPECT_EQ(z.error().err, ENOENT);
    EXPECT_EQ(z.error().render(),
              "execve: ENOENT (No such file or directory) [/usr/bin/no-such-python]");
}

TEST_F(SpawnerTest, MissingRuntimeDirIsNamed) {
    auto client = Spawner::start({});
    ASSERT_TRUE(client) << client.error().render();
    auto spec = probe_spec();
    spec.runtime_dir = "/nonexistent-runtime";
    auto z = client->spawn_zygote(std::move(spec));
    ASSERT_FALSE(z);
    // The spawner copies the runtime dir before any clone: that copy names the missing dir.
    EXPECT_EQ(z.error().step, sys::Step::zygote_start) << z.error().render();
    EXPECT_EQ(z.error().err, ENOENT);
    EXPECT_NE(z.error().detail.find("/nonexistent-runtime"), std::string::npos);
}

TEST_F(SpawnerTest, SpawnerExitsWhenClientIsDestroyedAndKillsItsZygotes) {
    pid_t spawner_pid = -1;
    pid_t zygote_pid = -1;
    {
        auto client = Spawner::start({});
        ASSERT_TRUE(client) << client.error().render();
        spawner_pid = client->spawner_pid();
        auto z = client->spawn_zygote(probe_spec());
        ASSERT_TRUE(z) << z.error().render();
        zygote_pid = z->pid;
    }
    for (int i = 0; i < 100 && fs::exists("/proc/" + std::to_string(zygote_pid)); ++i) {
        ::usleep(10'000);
    }
    EXPECT_FALSE(fs::exists("/proc/" + std::to_string(spawner_pid)));
    EXPECT_FALSE(fs::exists("/proc/" + std::to_string(zygote_pid)));
}

std::string children_of(pid_t pid) {
    std::ifstream in{"/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children"};
    std::string s;
    std::getline(in, s);
    return s;
}

// Beast-style fail_count: the N-th checked set-up call fails, for N = 0, 1, ... until success.
TEST_F(SpawnerTest, FaultInjectionAtEveryStepFailsCleanly) {
    {
        auto client = Spawner::start({});
        ASSERT_TRUE(client) << client.error().render();
        int n = 0;
        for (;; ++n) {
            ASSERT_LT(n, 500);
            auto spec = probe_spec();
            spec.fault_injection = n;
            auto z = client->spawn_zygote(std::move(spec));
            if (z) break;
            EXPECT_EQ(z.error().err, EIO) << n << ": " << z.error().render();
            // The failed child was killed and reaped before the reply: nothing left behind.
            EXPECT_EQ(children_of(client->spawner_pid()), "") << n;
        }
        std::printf("fault injection: %d set-up steps, each failed cleanly\n", n);
        EXPECT_GT(n, 40);
    }
    EXPECT_EQ(count_open_fds(), fds_before_);
}

TEST_F(SpawnerTest, ConcurrentSpawnsFromSeveralThreads) {
    auto client = Spawner::start({});
    ASSERT_TRUE(client) << client.error().render();
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 3; ++i) {
                auto z = client->spawn_zygote(probe_spec());
                if (z && wait_readable(z->control.get(), 10'000)) ++ok;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok.load(), 12);
}

TEST_F(SpawnerTest, ManySpawnsLeakNoFds) {
    {
        auto client = Spawner::start({});
        ASSERT_TRUE(client) << client.error().render();
        std::vector<double> ms;
        for (int i = 0; i < 10; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            auto z = client->spawn_zygote(probe_spec());
            ms.push_back(std::chrono::duration<double, std::milli>(
                             std::chrono::steady_clock::now() - t0).count());
            ASSERT_TRUE(z) << z.error().render();
            ASSERT_TRUE(wait_readable(z->control.get(), 10'000));
        }
        std::sort(ms.begin(), ms.end());
        std::printf("spawn_zygote (clone, maps, root fs, execve): median %.2f ms, max %.2f ms\n",
                    ms[ms.size() / 2], ms.back());
    }
    EXPECT_EQ(count_open_fds(), fds_before_);
}

}  // namespace
}  // namespace sbx::sandbox
