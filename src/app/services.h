// Services: the process-wide parts built before any thread — cgroups, spawner, seccomp filter,
// zygote launcher — and the isolation layers they provide (for /health and fail-closed start).
#pragma once

#include <memory>
#include <optional>

#include "app/cgroup_groups.h"
#include "app/egress_links.h"
#include "app/spawner_launcher.h"
#include "config/config.h"
#include "pool/run_quotas.h"
#include "pool/run_service.h"
#include "sandbox/spawner.h"
#include "sandbox/uid_range.h"

namespace sbx::app {

struct Services {
    sandbox::UidRangeLock uid_range;  // SANDBOX_UID_BASE's block, reserved for our life
    pool::RunQuotas quotas;           // each run's share of the per-user kernel quotas
    std::unique_ptr<CgroupGroups> groups;
    std::unique_ptr<sandbox::SpawnerClient> spawner;  // heap: the launcher points at it
    std::unique_ptr<SpawnerLauncher> launcher;
    // Built here (seccomp, namespaces); isolation_layers() adds those of `groups` and `links`.
    std::vector<pool::LayerStatus> layers;
    std::unique_ptr<network::Egress> egress;  // NETWORK_MODE=egress only
    std::unique_ptr<EgressLinks> links;       // over `egress`; null without it
    [[nodiscard]] pool::RunNetworkFactory* networks() const { return links.get(); }
};

// Call from main() before any thread exists (it forks the spawner).
// Errors are fatal start-up problems, already rendered for the operator.
[[nodiscard]] sys::Result<Services> build_services(const config::Config& cfg);

// RUNTIME_DIR, or <dir of this executable>/runtime.
[[nodiscard]] std::filesystem::path runtime_dir(const config::Config& cfg);

// Every isolation layer the services provide (seccomp, namespaces, cgroups, socket memory,
// egress): the one list /health shows and the fail-closed start checks.
[[nodiscard]] std::vector<pool::LayerStatus> isolation_layers(const Services& s);

// Layers that are missing, unless ALLOW_DEGRADED: the server then refuses to start.
[[nodiscard]] std::vector<std::string> missing_layers(const Services& s);

}  // namespace sbx::app
