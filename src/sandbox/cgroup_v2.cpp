// cgroup v2: delegation set-up, create, limit, kill (cgroup.kill), remove a run group.
#include <fcntl.h>

#include <cmath>
#include <iterator>
#include <set>
#include <sstream>
#include <thread>

#include "sandbox/cgroup_backends.h"
#include "sandbox/cgroup_fs.h"
#include "sys/scope_exit.h"

namespace sbx::sandbox {
namespace {

namespace fs = std::filesystem;
using sys::Result;
using sys::Step;

constexpr std::uint64_t kCpuPeriodUs = 100'000;
constexpr std::chrono::milliseconds kKillBudget{200};
constexpr std::string_view kControllers = "+memory +pids +cpu";

class V2Run final : public RunCgroupBackend {
public:
    explicit V2Run(fs::path dir) : dir_(std::move(dir)) {}

    Result<std::vector<sys::UniqueFd>> open_procs_fds() const override {
        const auto p = dir_ / "cgroup.procs";
        sys::UniqueFd fd{::open(p.c_str(), O_WRONLY | O_CLOEXEC)};
        if (!fd) return sys::errno_error(Step::cgroup_attach, p.string());
        std::vector<sys::UniqueFd> fds;
        fds.push_back(std::move(fd));
        return fds;
    }

    Result<CgroupStats> stats() const override {
        CgroupStats s;
        // memory.peak exists since Linux 5.19; older kernels give no peak.
        if (auto peak = cgfs::read_u64(dir_ / "memory.peak", Step::cgroup_stat)) {
            s.memory_peak_bytes = *peak;
        }
        SBX_TRY(const std::uint64_t us,
                cgfs::read_u64(dir_ / "cpu.stat", Step::cgroup_stat, "usage_usec"));
        s.cpu_time = std::chrono::microseconds{us};
        auto oom = cgfs::read_u64(dir_ / "memory.events", Step::cgroup_stat, "oom_kill");
        s.oom_kills = oom ? *oom : 0;
        return s;
    }

    Result<void> kill() override {
        // cgroup.kill (Linux 5.14) kills every process atomically, forks in flight included;
        // before 5.14 (write fails) the SIGKILL loop below is the fallback.
        const bool atomic = cgfs::write(dir_ / "cgroup.kill", "1", Step::cgroup_kill).has_value();
        if (!cgfs::kill_until_empty(dir_ / "cgroup.procs", kKillBudget, !atomic)) {
            return sys::SysError{Step::cgroup_kill, EBUSY, dir_.string()};
        }
        return {};
    }

    std::vector<pid_t> members() const override { return cgfs::read_pids(dir_ / "cgroup.procs"); }

    Result<void> remove() override {
        if (removed_) return {};
        const bool empty = members().empty();
        auto killed = empty ? Result<void>{} : kill();
        auto removed = cgfs::remove_dir(dir_);
        removed_ = true;
        if (!killed) return killed.error();
        return removed;
    }

    std::vector<fs::path> dirs() const override { return {dir_}; }

private:
    fs::path dir_;
    bool removed_ = false;
};

Result<void> write_v2_limits(const fs::path& run, const CgroupLimits& l) {
    SBX_TRY_VOID(cgfs::write(run / "memory.max", std::to_string(l.memory_bytes),
                             Step::cgroup_limit));
    // No swap escape from the memory limit (the file exists only with swap accounting).
    if (fs::exists(run / "memory.swap.max")) {
        SBX_TRY_VOID(cgfs::write(run / "memory.swap.max", "0", Step::cgroup_limit));
    }
    // An OOM kill takes the whole run down, not one random process of it.
    if (fs::exists(run / "memory.oom.group")) {
        SBX_TRY_VOID(cgfs::write(run / "memory.oom.group", "1", Step::cgroup_limit));
    }
    SBX_TRY_VOID(cgfs::write(run / "pids.max", std::to_string(l.pids), Step::cgroup_limit));
    const auto quota = std::max<long long>(std::llround(l.cpu_cores * kCpuPeriodUs), 1000);
    SBX_TRY_VOID(cgfs::write(run / "cpu.max",
                             std::to_string(quota) + " " + std::to_string(kCpuPeriodUs),
                             Step::cgroup_limit));
    return {};
}

// cgroup.memory=nosocket (alone or in a list such as "nokmem,nosocket") turns v2's socket
// accounting off for the whole host.
bool sockets_uncharged(const fs::path& cmdline) {
    auto text = cgfs::read(cmdline, Step::cgroup_detect);
    if (!text) return false;
    std::istringstream words{*text};
    for (std::string w; words >> w;) {
        if (!w.starts_with("cgroup.memory=")) continue;
        std::istringstream opts{w.substr(w.find('=') + 1)};
        for (std::string o; std::getline(opts, o, ',');) {
            if (o == "nosocket") return true;
        }
    }
    return false;
}

class V2Manager final : public CgroupManager {
public:
    V2Manager(fs::path base, bool sockets_charged)
        : base_(std::move(base)), sockets_charged_(sockets_charged) {}
    V2Manager(const V2Manager&) = delete;
    V2Manager& operator=(const V2Manager&) = delete;
    // The prefix directory goes with the last server using it (see V1Manager).
    ~V2Manager() override { (void)cgfs::remove_dir(base_); }

    CgroupVersion version() const noexcept override { return CgroupVersion::v2; }
    std::string describe() const override { return "cgroup v2: " + base_.string(); }
    SocketAccounting socket_accounting() const override {
        if (!sockets_charged_) {
            return {false, "cgroup v2 booted with cgroup.memory=nosocket: socket buffers uncounted"};
        }
        return {true, "cgroup v2: socket buffers charged to memory.max"};
    }

    Result<RunCgroup> create_run(const std::string& run_id,
                                 const CgroupLimits& limits) const override {
        if (!cgfs::valid_run_id(run_id)) return sys::SysError{Step::cgroup_create, EINVAL, run_id};
        const fs::path run = base_ / run_id;
        SBX_TRY_VOID(cgfs::make_run_dir(run, [&] {
            return cgfs::write(base_ / "cgroup.subtree_control", kControllers, Step::cgroup_create);
        }));
        sys::ScopeExit rollback{[&] { (void)cgfs::remove_dir(run); }};
        SBX_TRY_VOID(write_v2_limits(run, limits));
        rollback.dismiss();
        return RunCgroup{std::make_unique<V2Run>(run)};
    }

    Result<void> cleanup_leftovers() const override {
        std::optional<sys::SysError> first;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator{base_, ec}) {
            if (!e.is_directory(ec) || cgfs::owned_by_live_server(e.path().filename().string())) continue;
            auto r = V2Run{e.path()}.remove();
            if (!r && !first) first = r.error();
        }
        if (first) return *first;
        return {};
    }

private:
    fs::path base_;
    bool sockets_charged_;
};

bool has_controllers(const fs::path& controllers_file) {
    auto text = cgfs::read(controllers_file, Step::cgroup_detect);
    if (!text) return false;
    std::istringstream words{*text};
    std::set<std::string> have{std::istream_iterator<std::string>{words}, {}};
    return have.contains("memory") && have.contains("pids") && have.contains("cpu");
}

// No-internal-process rule: a non-root cgroup with processes cannot enable controllers for its
// children. Move every process of `own` into the leaf "<prefix>-server" first.
Result<void> move_processes_to_leaf(const fs::path& own, const std::string& prefix) {
    const auto pids = cgfs::read_pids(own / "cgroup.procs");
    if (pids.empty()) return {};
    const fs::path leaf = own / (prefix + "-server");
    SBX_TRY_VOID(cgfs::make_dir(leaf, true));
    for (const pid_t pid : pids) {
        auto r = cgfs::write(leaf / "cgroup.procs", std::to_string(pid), Step::cgroup_attach);
        if (!r && r.error().err != ESRCH) return r.error();  // ESRCH: it exited meanwhile
    }
    return {};
}

}  // namespace

std::unique_ptr<CgroupManager> make_cgroup_v2(const CgroupDetectOptions& o, std::string& why_not) {
    if (!has_controllers(o.mount_root / "cgroup.controllers")) {
        why_not = "cgroup v2: memory, pids, cpu not all in " + o.mount_root.string();
        return nullptr;
    }
    const auto own = cgfs::own_cgroups(o.self_cgroup);
    const auto it = own.find("");
    if (it == own.end()) {
        why_not = "cgroup v2: no 0:: line in " + o.self_cgroup.string();
        return nullptr;
    }
    const fs::path own_dir = o.mount_root / fs::path{it->second}.relative_path();
    const fs::path base = own_dir / o.prefix;
    auto prepared = [&]() -> Result<void> {
        if (own_dir != o.mount_root) SBX_TRY_VOID(move_processes_to_leaf(own_dir, o.prefix));
        SBX_TRY_VOID(cgfs::write(own_dir / "cgroup.subtree_control", kControllers,
                                 Step::cgroup_detect));
        SBX_TRY_VOID(cgfs::make_dir(base, true));
        SBX_TRY_VOID(cgfs::write(base / "cgroup.subtree_control", kControllers,
                                 Step::cgroup_detect));
        return {};
    }();
    if (!prepared) {
        why_not = "cgroup v2: " + prepared.error().render();
        return nullptr;
    }
    return std::make_unique<V2Manager>(base, !sockets_uncharged(o.kernel_cmdline));
}

}  // namespace sbx::sandbox
