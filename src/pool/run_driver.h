// RunDriver: one run from its prepared sandbox to its outcome — inputs, go, output capture,
// deadline, exit report, file collection.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "config/config.h"
#include "pool/run_prepare.h"
#include "sandbox/run_types.h"

namespace sbx::pool {

// Runs `request` in `run` (consumed). Never throws; every failure is in the outcome. If the
// calling coroutine is cancelled (client gone), the run is killed and cleaned up first.
boost::asio::awaitable<sandbox::RunOutcome> execute_run(PreparedRun run,
                                                         const sandbox::RunRequest& request,
                                                         const config::Config& cfg,
                                                         const DriverSettings& settings);

// The outcome for a run that could not be prepared.
sandbox::RunOutcome failed_outcome(const sys::SysError& e);

}  // namespace sbx::pool
