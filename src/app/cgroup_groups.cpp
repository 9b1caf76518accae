// CgroupGroups: adapts RunCgroup to the run driver's RunGroup.
#include "app/cgroup_groups.h"

#include <unistd.h>

#include "log/log.h"

namespace sbx::app {
namespace {

class CgroupRunGroup final : public pool::RunGroup {
public:
    explicit CgroupRunGroup(sandbox::RunCgroup group) : group_(std::move(group)) {}
    ~CgroupRunGroup() override {
        if (auto r = group_.remove(); !r) log::warn("cgroup remove failed", {{"error", r.error().render()}});
    }
    sys::Result<std::vector<sys::UniqueFd>> procs_fds() override { return group_.open_procs_fds(); }
    pool::GroupStats stats() override {
        pool::GroupStats out;
        auto s = group_.stats();
        if (!s) return out;
        out.memory_peak_bytes = s->memory_peak_bytes;
        if (s->cpu_time) out.cpu_time_s = static_cast<double>(s->cpu_time->count()) / 1e6;
        out.oom_kills = s->oom_kills;
        return out;
    }
    void kill() override { (void)group_.kill(); }
    std::vector<pid_t> members() const override { return group_.members(); }

private:
    sandbox::RunCgroup group_;
};

}  // namespace

CgroupGroups::CgroupGroups(std::unique_ptr<sandbox::CgroupManager> manager)
    : manager_(std::move(manager)) {}

sys::Result<std::unique_ptr<pool::RunGroup>> CgroupGroups::create(const std::string& run_id,
                                                                  const pool::GroupLimits& limits) {
    if (manager_->version() == sandbox::CgroupVersion::none) return std::unique_ptr<pool::RunGroup>{};
    // Named after this server's pid too: several servers may share a hierarchy (v1 pids/cpu),
    // and start-up clean-up spares the groups of servers that are still alive.
    const std::string name = "p" + std::to_string(::getpid()) + "-" + run_id;
    SBX_TRY(auto group, manager_->create_run(name, sandbox::CgroupLimits{limits.memory_bytes, limits.pids, limits.cpu_cores, limits.socket_bytes}));
    return std::unique_ptr<pool::RunGroup>(std::make_unique<CgroupRunGroup>(std::move(group)));
}

std::vector<pool::LayerStatus> CgroupGroups::layers() const {
    const bool active = manager_->version() != sandbox::CgroupVersion::none;
    const auto sockets = manager_->socket_accounting();
    return {pool::LayerStatus{"cgroups", active, manager_->describe()},
            pool::LayerStatus{"socket_memory", sockets.charged, sockets.detail}};
}

}  // namespace sbx::app
