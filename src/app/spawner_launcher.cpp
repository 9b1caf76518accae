// SpawnerLauncher: translates a pool zygote request into a spawner ZygoteSpec.
#include "app/spawner_launcher.h"

#include <fcntl.h>

#include "network/egress.h"
#include "sys/fd_util.h"

namespace sbx::app {

SpawnerLauncher::SpawnerLauncher(sandbox::SpawnerClient& spawner, const config::Config& cfg,
                                 pool::RunQuotas quotas, std::filesystem::path runtime_dir,
                                 sys::UniqueFd seccomp_memfd)
    : spawner_(spawner),
      cfg_(cfg),
      quotas_(quotas),
      runtime_dir_(std::move(runtime_dir)),
      seccomp_memfd_(std::move(seccomp_memfd)) {}

sys::Result<pool::ZygoteProcess> SpawnerLauncher::launch(const pool::ZygoteSpec& spec) {
    sandbox::ZygoteSpec z;
    z.mode = spec.kind == pool::ZygoteKind::cold ? "cold" : "zygote";
    z.preload = spec.preload;
    z.python = cfg_.python;
    z.runtime_dir = runtime_dir_;
    z.uid_base = cfg_.sandbox_uid_base;
    z.uid_count = quotas_.uid_count;
    z.user_limits = pool::user_namespace_limits(quotas_);
    z.resolv_conf = network::run_resolv_conf(cfg_);
    if (seccomp_memfd_) {
        SBX_TRY(z.seccomp_memfd, sys::dup_cloexec(seccomp_memfd_.get()));
    }
    SBX_TRY(auto handle, spawner_.spawn_zygote(std::move(z)));
    return pool::ZygoteProcess{std::move(handle.pidfd), std::move(handle.control), handle.pid};
}

}  // namespace sbx::app
