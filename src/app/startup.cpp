// start_runtime: services, layer check, engine — the same for every subcommand.
#include "app/startup.h"

#include <stdexcept>

namespace sbx::app {

void throw_exception_from_error(const StartupError& e, const boost::source_location&) {
    throw std::runtime_error(e.message);
}

boost::system::result<Runtime, StartupError> start_runtime(const config::Config& cfg,
                                                           const boost::asio::any_io_executor& ex) {
    auto services = build_services(cfg);
    if (!services) return StartupError{"start-up failed: " + services.error().render(), {}};
    Runtime rt;
    rt.services = std::make_unique<Services>(std::move(*services));
    rt.missing_layers = missing_layers(*rt.services);
    if (!rt.missing_layers.empty() && !cfg.allow_degraded) {
        return StartupError{
            "refusing to run without every isolation layer (set ALLOW_DEGRADED=true to accept it)",
            rt.missing_layers};
    }
    Services& s = *rt.services;
    rt.engine = std::make_unique<pool::Engine>(ex, cfg, s.quotas, *s.launcher, *s.groups,
                                               isolation_layers(s), s.networks());
    return rt;
}

}  // namespace sbx::app
