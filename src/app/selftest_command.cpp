// selftest: checks every isolation layer on this host and says how to fix what is missing.
#include <cstdio>

#include "app/commands.h"
#include "app/services.h"

namespace sbx::app {

int selftest_command(const config::Config& cfg) {
    auto services = build_services(cfg);
    if (!services) {
        std::printf("FAIL  sandbox start-up: %s\n", services.error().render().c_str());
        std::printf("      fix: run as root on Linux >= 5.10 with user namespaces enabled\n");
        return 1;
    }
    int failures = 0;
    auto report = [&](const pool::LayerStatus& l) {
        std::printf("%s  %-12s %s\n", l.active ? "ok  " : "FAIL", l.name.c_str(), l.detail.c_str());
        failures += l.active ? 0 : 1;
    };
    for (const auto& l : services->layers) report(l);
    for (const auto& l : services->groups->layers()) report(l);
    std::printf("%s\n", failures == 0 ? "all isolation layers active" : "some layers are missing");
    return failures == 0 ? 0 : 1;
}

}  // namespace sbx::app
