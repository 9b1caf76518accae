// SpawnerLauncher: starts zygotes through the spawner process (pool::ZygoteLauncher).
#pragma once

#include "config/config.h"
#include "pool/run_quotas.h"
#include "pool/zygote.h"
#include "sandbox/spawner.h"

namespace sbx::app {

class SpawnerLauncher final : public pool::ZygoteLauncher {
public:
    // seccomp_memfd: the runs' filter (sealed memfd); each zygote gets its own dup of it.
    // quotas: the run uids the zygotes map and their per-uid limits.
    SpawnerLauncher(sandbox::SpawnerClient& spawner, const config::Config& cfg,
                    pool::RunQuotas quotas, std::filesystem::path runtime_dir,
                    sys::UniqueFd seccomp_memfd);
    sys::Result<pool::ZygoteProcess> launch(const pool::ZygoteSpec& spec) override;

private:
    sandbox::SpawnerClient& spawner_;
    const config::Config& cfg_;
    pool::RunQuotas quotas_;
    std::filesystem::path runtime_dir_;
    sys::UniqueFd seccomp_memfd_;
};

}  // namespace sbx::app
