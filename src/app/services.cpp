// Services: building the spawner, cgroups and seccomp filter once, at start-up.
#include "app/services.h"

#include <unistd.h>

#include "log/log.h"
#include "sandbox/seccomp_policy.h"
#include "sandbox/selftest.h"

namespace sbx::app {
namespace {

sys::Result<sys::UniqueFd> run_filter_memfd() {
    SBX_TRY(auto filter, sandbox::build_run_filter());
    return sandbox::filter_memfd(filter);
}

void log_quotas(const config::Config& cfg, const pool::RunQuotas& q) {
    log::info("run uids", {{"first", cfg.sandbox_uid_base + 1},
                           {"last", cfg.sandbox_uid_base + q.uid_count},
                           {"inotify_instances_per_run", q.inotify_instances},
                           {"inotify_watches_per_run", q.inotify_watches},
                           {"sigpending_per_run", q.sigpending},
                           {"msgqueue_per_run", q.msgqueue},
                           {"memlock_per_run", q.memlock},
                           {"socket_bytes_per_run", q.socket_bytes}});
    if (q.inotify_instances == 0) {
        log::warn("runs get no inotify instance: fs.inotify.max_user_instances is below SANDBOX_UIDS "
                  "(every run uid gets an equal share of it)",
                  {{"sandbox_uids", q.uid_count}});
    }
}

}  // namespace

std::filesystem::path runtime_dir(const config::Config& cfg) {
    if (!cfg.runtime_dir.empty()) return cfg.runtime_dir;
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path("runtime") : exe.parent_path() / "runtime";
}

sys::Result<Services> build_services(const config::Config& cfg) {
    Services s;
    std::string shared_with;
    SBX_TRY(s.uid_range, sandbox::UidRangeLock::acquire(sandbox::kUidRangePrefix, cfg.sandbox_uid_base,
                                                        config::kSandboxIdBlock, shared_with));
    if (!shared_with.empty()) {
        log::warn("another server uses the same SANDBOX_UID_BASE: runs of both share host uids and "
                  "their per-user kernel quotas; give each server its own",
                  {{"other", shared_with}});
    }
    s.quotas = pool::plan_run_quotas(cfg, pool::read_host_limits());
    log_quotas(cfg, s.quotas);
    // Cgroups first: on v2 this moves us to a leaf group, and the spawner must be born there.
    auto manager = sandbox::detect_cgroups(sandbox::CgroupDetectOptions{"/sys/fs/cgroup", "/proc/self/cgroup", cfg.cgroup_prefix});
    if (auto cleaned = manager->cleanup_leftovers(); !cleaned) {
        log::warn("cgroup leftovers not removed", {{"error", cleaned.error().render()}});
    }
    log::info("cgroups", {{"version", sandbox::to_string(manager->version())}, {"detail", manager->describe()}});
    s.groups = std::make_unique<CgroupGroups>(std::move(manager));

    auto filter = run_filter_memfd();
    s.layers.push_back(pool::LayerStatus{"seccomp", filter.has_value(),
                                         filter ? "run filter loaded by every run" : filter.error().render()});
    SBX_TRY(auto spawner, sandbox::Spawner::start(sandbox::SpawnerOptions{}));
    s.spawner = std::make_unique<sandbox::SpawnerClient>(std::move(spawner));
    const auto userns = sandbox::check_user_namespaces();  // probed in a short-lived child
    s.layers.push_back(pool::LayerStatus{"namespaces", userns.active,
                                         userns.active ? "user, mount, pid, net, ipc, uts, cgroup per zygote; "
                                                         "mount, pid, net, ipc, uts, cgroup per run"
                                                       : userns.detail + "; fix: " + userns.fix});
    if (cfg.network_mode == config::NetworkMode::egress) {
        auto egress = network::Egress::start(cfg);
        if (!egress) return egress.error();  // egress asked for and not possible: refuse to start
        s.egress = std::move(*egress);
        s.links = std::make_unique<EgressLinks>(*s.egress);
        log::info("egress", {{"detail", s.egress->describe()}});
    } else if (::geteuid() == 0) {  // (libnftables prints to stderr when it may not ask)
        if (auto removed = network::remove_leftover_table(cfg); !removed) {
            log::debug("no egress table removed", {{"error", removed.error().render()}});  // no nf_tables
        }
    }
    const auto dir = runtime_dir(cfg);
    if (!std::filesystem::exists(dir / "zygote.py")) {
        return sys::SysError{sys::Step::zygote_start, ENOENT, (dir / "zygote.py").string()};
    }
    s.launcher = std::make_unique<SpawnerLauncher>(*s.spawner, cfg, s.quotas, dir,
                                                   filter ? std::move(*filter) : sys::UniqueFd{});
    return s;
}

std::vector<pool::LayerStatus> isolation_layers(const Services& s) {
    std::vector<pool::LayerStatus> all = s.layers;
    if (s.groups) {
        auto more = s.groups->layers();
        all.insert(all.end(), more.begin(), more.end());
    }
    if (s.links) {
        auto more = s.links->layers();
        all.insert(all.end(), more.begin(), more.end());
    }
    return all;
}

std::vector<std::string> missing_layers(const Services& s) {
    std::vector<std::string> missing;
    for (const auto& l : isolation_layers(s)) {
        if (!l.active) missing.push_back(l.name + ": " + l.detail);
    }
    return missing;
}

}  // namespace sbx::app
