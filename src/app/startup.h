// Start-up shared by `serve`, `run` and `selftest`: the services (before any thread), the
// fail-closed check of the isolation layers, and the engine over them.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <memory>
#include <string>
#include <vector>

#include "app/services.h"
#include "config/config.h"
#include "pool/engine.h"

namespace sbx::app {

struct Runtime {
    std::unique_ptr<Services> services;  // heap: the engine refers into it
    std::unique_ptr<pool::Engine> engine;
    std::vector<std::string> missing_layers;  // accepted with ALLOW_DEGRADED; else no Runtime
};

struct StartupError {
    std::string message;               // "start-up failed: ..." or the refusal
    std::vector<std::string> missing;  // the isolation layers that are missing, if that is why
};

// Called by result::value() on an error: throws std::runtime_error(message).
[[noreturn]] void throw_exception_from_error(const StartupError& e,
                                             const boost::source_location& loc);

// Call before any thread exists (it forks the spawner). The engine is built on `ex` and not
// started (Engine::start). `cfg` must outlive the Runtime.
[[nodiscard]] boost::system::result<Runtime, StartupError> start_runtime(
    const config::Config& cfg, const boost::asio::any_io_executor& ex);

}  // namespace sbx::app
