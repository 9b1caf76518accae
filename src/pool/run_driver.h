// RunDriver: one run from fork request to outcome — the server's side of the run protocol.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>

#include "config/config.h"
#include "pool/run_group.h"
#include "pool/zygote.h"
#include "sandbox/run_types.h"

namespace sbx::pool {

struct DriverSettings {
    std::uint32_t sandbox_uid = 1000;    // inside the run's user namespace
    std::uint32_t owner_host_uid = 0;    // host uid that maps to sandbox_uid (inputs are chowned)
    std::chrono::milliseconds setup_timeout{10000};
    std::chrono::milliseconds kill_grace{5000};  // after a kill, how long the monitor may take
};

// Runs `request` in a fresh child of `zygote`. Never throws; every failure is in the outcome.
// If the calling coroutine is cancelled, the run is killed and cleaned up before returning.
boost::asio::awaitable<sandbox::RunOutcome> drive_run(const sandbox::RunRequest& request,
                                                       const std::string& run_id, Zygote& zygote,
                                                       RunGroup* group, const config::Config& cfg,
                                                       const DriverSettings& settings);

}  // namespace sbx::pool
