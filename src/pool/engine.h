// Engine: the RunService of the server — admission, zygote choice, run group, run driver.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "config/config.h"
#include "auth/fair_admission.h"
#include "pool/run_driver.h"
#include "pool/run_factory.h"
#include "pool/run_group.h"
#include "pool/run_network.h"
#include "pool/run_quotas.h"
#include "pool/run_service.h"
#include "pool/zygote_pool.h"

namespace sbx::pool {

// Which zygote suits the code: full when it imports one of the preloaded packages.
ZygoteKind choose_zygote(std::string_view code, const std::vector<std::string>& preload);

class Engine final : public RunService {
public:
    // quotas: the run uids and per-run limits (plan_run_quotas), as the zygotes were told.
    Engine(boost::asio::any_io_executor ex, const config::Config& cfg, const RunQuotas& quotas,
           ZygoteLauncher& launcher, RunGroupFactory& groups,
           std::vector<LayerStatus> isolation_layers,  // all of them (shown by /health)
           RunNetworkFactory* networks = nullptr);  // null: no egress (NETWORK_MODE=none)
    ~Engine() override;

    boost::asio::awaitable<void> start();  // starts the zygotes (zygote mode)
    void close_admission();                // new runs get 503; runs in flight go on
    void stop();                           // rejects new runs, kills the zygotes

    boost::asio::awaitable<RunReply> run(sandbox::RunRequest request) override;
    [[nodiscard]] HealthReport health() const override;

private:
    boost::asio::awaitable<sandbox::RunOutcome> run_admitted(const sandbox::RunRequest& request);

    const config::Config& cfg_;
    RunGroupFactory& groups_;
    std::vector<LayerStatus> layers_;
    auth::FairAdmission admission_;  // round-robin among subjects (keys, client addresses)
    ZygotePool zygotes_;
    DriverSettings driver_;
    RunFactory runs_;
    std::atomic<bool> stopped_{false};
};

}  // namespace sbx::pool
