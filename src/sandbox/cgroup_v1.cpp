// cgroup v1: memory, pids, cpu, cpuacct (+ freezer) hierarchies: create, limit, kill, remove.
#include <fcntl.h>

#include <cmath>
#include <csignal>
#include <set>
#include <thread>

#include "sandbox/cgroup_backends.h"
#include "sandbox/cgroup_fs.h"
#include "sys/scope_exit.h"

namespace sbx::sandbox {
namespace {

namespace fs = std::filesystem;
using sys::Result;
using sys::Step;

constexpr std::uint64_t kCfsPeriodUs = 100'000;
constexpr std::chrono::milliseconds kKillBudget{200};
constexpr const char* kTcpLimit = "memory.kmem.tcp.limit_in_bytes";

// Where each controller's directory of one run (or of the prefix) lives. cpu and cpuacct may
// be one co-mounted hierarchy ("cpu,cpuacct"), then both point at the same directory.
struct V1Dirs {
    fs::path memory, pids, cpu, cpuacct, freezer;  // freezer empty when not mounted
    [[nodiscard]] std::vector<fs::path> distinct() const {
        std::vector<fs::path> out;
        for (const auto* d : {&memory, &pids, &cpu, &cpuacct, &freezer}) {
            if (!d->empty() && std::find(out.begin(), out.end(), *d) == out.end()) {
                out.push_back(*d);
            }
        }
        return out;
    }
    [[nodiscard]] V1Dirs child(const std::string& name) const {
        V1Dirs c{memory / name, pids / name, cpu / name, cpuacct / name, {}};
        if (!freezer.empty()) c.freezer = freezer / name;
        return c;
    }
};

class V1Run final : public RunCgroupBackend {
public:
    explicit V1Run(V1Dirs dirs) : dirs_(std::move(dirs)) {}

    Result<std::vector<sys::UniqueFd>> open_procs_fds() const override {
        std::vector<sys::UniqueFd> fds;
        for (const auto& d : dirs_.distinct()) {
            const auto p = d / "cgroup.procs";
            sys::UniqueFd fd{::open(p.c_str(), O_WRONLY | O_CLOEXEC)};
            if (!fd) return sys::errno_error(Step::cgroup_attach, p.string());
            fds.push_back(std::move(fd));
        }
        return fds;
    }

    Result<CgroupStats> stats() const override {
        CgroupStats s;
        SBX_TRY(s.memory_peak_bytes, cgfs::read_u64(dirs_.memory / "memory.max_usage_in_bytes",
                                                    Step::cgroup_stat));
        SBX_TRY(const std::uint64_t ns, cgfs::read_u64(dirs_.cpuacct / "cpuacct.usage",
                                                       Step::cgroup_stat));
        s.cpu_time = std::chrono::microseconds{ns / 1000};
        // "oom_kill N" in memory.oom_control (Linux 4.13+): counts actual OOM kills, unlike
        // memory.failcnt, which also counts reclaim at the limit.
        auto oom = cgfs::read_u64(dirs_.memory / "memory.oom_control", Step::cgroup_stat,
                                  "oom_kill");
        s.oom_kills = oom ? *oom : 0;
        return s;
    }

    Result<void> kill() override {
        if (dirs_.freezer.empty()) return kill_by_pid_list(true);
        // Frozen tasks cannot fork or exit, so no pid we read can be reused before SIGKILL lands.
        const auto state = dirs_.freezer / "freezer.state";
        SBX_TRY_VOID(cgfs::write(state, "FROZEN", Step::cgroup_kill));
        for (int i = 0; i < 500; ++i) {
            auto s = cgfs::read(state, Step::cgroup_kill);
            if (!s || s->starts_with("FROZEN")) break;
            std::this_thread::sleep_for(std::chrono::microseconds{100});
        }
        for (const pid_t pid : cgfs::read_pids(dirs_.freezer / "cgroup.procs")) {
            (void)::kill(pid, SIGKILL);
        }
        SBX_TRY_VOID(cgfs::write(state, "THAWED", Step::cgroup_kill));
        // Only wait: SIGKILL is pending on every frozen one. Signal only if some never joined
        // the freezer (then the pid-list loop is all we have).
        if (kill_by_pid_list(false)) return {};
        return kill_by_pid_list(true);
    }

    std::vector<pid_t> members() const override {
        return cgfs::read_pids(dirs_.pids / "cgroup.procs");  // every run process is in pids
    }

    Result<void> remove() override {
        if (removed_) return {};
        // Usually the run is over and the group empty: skip the freeze/thaw round trip.
        const bool empty = members().empty();
        auto killed = empty ? Result<void>{} : kill();
        std::optional<sys::SysError> first;
        if (!killed) first = killed.error();
        for (const auto& d : dirs_.distinct()) {
            auto r = cgfs::remove_dir(d);
            if (!r && !first) first = r.error();
        }
        removed_ = true;
        if (first) return *first;
        return {};
    }

    std::vector<fs::path> dirs() const override { return dirs_.distinct(); }

private:
    // Without a freezer: loop SIGKILL over cgroup.procs (every run process is in pids); racy
    // against pid reuse in theory, hence the freezer when it is mounted.
    Result<void> kill_by_pid_list(bool signal) const {
        if (!cgfs::kill_until_empty(dirs_.pids / "cgroup.procs", kKillBudget, signal)) {
            return sys::SysError{Step::cgroup_kill, EBUSY, dirs_.pids.string()};
        }
        return {};
    }

    V1Dirs dirs_;
    bool removed_ = false;
};

Result<void> write_v1_limits(const V1Dirs& run, const V1Dirs& base, const CgroupLimits& l) {
    const auto mem = std::to_string(l.memory_bytes);
    SBX_TRY_VOID(cgfs::write(run.memory / "memory.limit_in_bytes", mem, Step::cgroup_limit));
    // memsw = memory + swap: the same value means no swap escape (only with swapaccount=1).
    if (fs::exists(base.memory / "memory.memsw.limit_in_bytes")) {
        SBX_TRY_VOID(cgfs::write(run.memory / "memory.memsw.limit_in_bytes", mem,
                                 Step::cgroup_limit));
    }
    SBX_TRY_VOID(cgfs::write(run.memory / "memory.swappiness", "0", Step::cgroup_limit));
    // v1 charges socket buffers to a group only once its kmem.tcp limit is set (and then to that
    // counter, not to memory.usage_in_bytes): without it, a run's TCP buffers are unbounded
    // and come out of the host's shared TCP pool (net.ipv4.tcp_mem).
    if (fs::exists(base.memory / kTcpLimit)) {
        SBX_TRY_VOID(cgfs::write(run.memory / kTcpLimit, std::to_string(l.socket_bytes),
                                 Step::cgroup_limit));
    }
    SBX_TRY_VOID(cgfs::write(run.pids / "pids.max", std::to_string(l.pids), Step::cgroup_limit));
    const auto quota = static_cast<std::uint64_t>(std::llround(l.cpu_cores * kCfsPeriodUs));
    SBX_TRY_VOID(cgfs::write(run.cpu / "cpu.cfs_period_us", std::to_string(kCfsPeriodUs),
                             Step::cgroup_limit));
    SBX_TRY_VOID(cgfs::write(run.cpu / "cpu.cfs_quota_us", std::to_string(std::max<std::uint64_t>(
                                                                quota, 1000)),
                             Step::cgroup_limit));
    return {};
}

class V1Manager final : public CgroupManager {
public:
    explicit V1Manager(V1Dirs base) : base_(std::move(base)) {}
    V1Manager(const V1Manager&) = delete;
    V1Manager& operator=(const V1Manager&) = delete;
    // The prefix directories go with the last server using them (rmdir fails while another
    // server's run groups are inside: those stay).
    ~V1Manager() override {
        for (const auto& d : base_.distinct()) (void)cgfs::remove_dir(d);
    }

    CgroupVersion version() const noexcept override { return CgroupVersion::v1; }
    std::string describe() const override {
        return "cgroup v1: " + base_.memory.string() + " (+pids, cpu, cpuacct" +
               (base_.freezer.empty() ? ", no freezer" : ", freezer") + ")";
    }

    SocketAccounting socket_accounting() const override {
        if (!fs::exists(base_.memory / kTcpLimit)) {
            return {false, "cgroup v1 without " + std::string(kTcpLimit) + ": socket buffers uncounted"};
        }
        return {true, "cgroup v1: " + std::string(kTcpLimit) + " per run"};
    }

    Result<RunCgroup> create_run(const std::string& run_id,
                                 const CgroupLimits& limits) const override {
        if (!cgfs::valid_run_id(run_id)) return sys::SysError{Step::cgroup_create, EINVAL, run_id};
        const V1Dirs run = base_.child(run_id);
        std::vector<fs::path> made;
        sys::ScopeExit rollback{[&] {
            for (const auto& d : made) (void)cgfs::remove_dir(d);
        }};
        for (const auto& d : run.distinct()) {
            SBX_TRY_VOID(cgfs::make_run_dir(d));
            made.push_back(d);
        }
        SBX_TRY_VOID(write_v1_limits(run, base_, limits));
        rollback.dismiss();
        return RunCgroup{std::make_unique<V1Run>(run)};
    }

    Result<void> cleanup_leftovers() const override {
        std::set<std::string> names;
        for (const auto& base : base_.distinct()) {
            std::error_code ec;
            for (const auto& e : fs::directory_iterator{base, ec}) {
                const auto name = e.path().filename().string();
                if (e.is_directory(ec) && !cgfs::owned_by_live_server(name)) names.insert(name);
            }
        }
        std::optional<sys::SysError> first;
        for (const auto& name : names) {
            V1Dirs run = base_.child(name);
            for (auto* d : {&run.memory, &run.pids, &run.cpu, &run.cpuacct, &run.freezer}) {
                if (!d->empty() && !fs::exists(*d)) d->clear();
            }
            auto r = V1Run{run}.remove();
            if (!r && !first) first = r.error();
        }
        if (first) return *first;
        return {};
    }

private:
    V1Dirs base_;
};

}  // namespace

std::unique_ptr<CgroupManager> make_cgroup_v1(const CgroupDetectOptions& o, std::string& why_not) {
    const auto own = cgfs::own_cgroups(o.self_cgroup);
    auto base_of = [&](const char* ctrl) -> fs::path {
        const auto it = own.find(ctrl);
        if (it == own.end() || !fs::exists(o.mount_root / ctrl / "cgroup.procs")) return {};
        return o.mount_root / ctrl / fs::path{it->second}.relative_path() / o.prefix;
    };
    V1Dirs base{base_of("memory"), base_of("pids"), base_of("cpu"), base_of("cpuacct"),
                base_of("freezer")};
    if (base.memory.empty() || base.pids.empty() || base.cpu.empty() || base.cpuacct.empty()) {
        why_not = "cgroup v1: memory, pids, cpu or cpuacct hierarchy missing under " +
                  o.mount_root.string();
        return nullptr;
    }
    std::error_code ec;
    if (fs::equivalent(o.mount_root / "cpu", o.mount_root / "cpuacct", ec)) base.cpuacct = base.cpu;
    for (const auto& d : base.distinct()) {
        auto r = cgfs::make_dir(d, true);
        if (!r) {
            why_not = r.error().render();
            return nullptr;
        }
    }
    return std::make_unique<V1Manager>(std::move(base));
}

}  // namespace sbx::sandbox
