// RunDriver: the one-shot path — one request's program in a prepared run (a RunExecution:
// start, await, outcome), then the run retired after the response.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "config/config.h"
#include "pool/run_execution.h"
#include "pool/run_prepare.h"
#include "sandbox/run_types.h"

namespace sbx::pool {

// Runs `request` in `run` (consumed). Never throws; every failure is in the outcome. If the
// calling coroutine is cancelled (client gone), the run is killed and cleaned up first.
boost::asio::awaitable<sandbox::RunOutcome> execute_run(PreparedRun run,
                                                         const sandbox::RunRequest& request,
                                                         const config::Config& cfg,
                                                         const DriverSettings& settings);

// A request's limits as the one-shot path applies them (timeout, MAX_OUTPUT_SIZE and the flood
// bound past it), and the limits its outcome is collected and judged with.
ExecutionLimits execution_limits(const sandbox::RunRequest& request, const config::Config& cfg);
OutcomeLimits outcome_limits(const config::Config& cfg);

// The outcome for a run that could not be prepared.
sandbox::RunOutcome failed_outcome(const sys::SysError& e);

}  // namespace sbx::pool
